"""The shipped Slack app manifest asks for what the adapter uses, and no more than that."""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "adapters" / "slack" / "manifest.yml"


def test_manifest_matches_the_adapter() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "message.channels", "reaction_added",
            "reaction_removed"} <= events
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # One scope per Web API method or event the adapter relies on.
    assert {"app_mentions:read", "chat:write", "commands", "reactions:read", "reactions:write",
            "im:history", "channels:history", "users:read"} <= scopes
    assert not any(s.startswith(("admin", "files:write", "users:write")) for s in scopes)
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/lore" and command["url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")
