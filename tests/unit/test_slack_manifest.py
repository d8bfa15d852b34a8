"""The shipped Slack app manifests ask for what the adapter uses, and no more than that.

The listeners are registered on a recorder standing in for the bolt ``App``, so the events,
shortcut callback ids and scopes are checked against what the code actually registers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.slack import agent, installation, shortcuts
from adapters.slack.listeners import SlackListeners
from adapters.slack.surfaces import register_surfaces
from bot.settings import load_settings

SLACK = Path(__file__).resolve().parents[2] / "adapters" / "slack"
MANIFEST = SLACK / "manifest.yml"
SOCKET_MANIFEST = SLACK / "manifest.socket.yml"
# A ``message`` listener receives these subscriptions (bolt delivers them all as "message").
MESSAGE_EVENTS = {"message.im", "message.channels", "message.groups", "message.mpim"}


class Recorder:
    """Just enough of ``slack_bolt.App`` for ``register``: what was asked for, by name."""

    def __init__(self, *, oauth: bool) -> None:
        self.installation_store = object() if oauth else None
        self.events: set[str] = set()
        self.shortcuts: set[str] = set()
        self.actions: set[str] = set()

    def _record(self, bucket: set[str], name: Any) -> Any:
        bucket.add(name if isinstance(name, str) else name.get("type", name.get("callback_id")))
        return lambda fn: fn

    def event(self, name: Any, matchers: Any = None, middleware: Any = None) -> Any:
        return self._record(self.events, name)

    def message_shortcut(self, callback_id: str, **_: Any) -> Any:
        return self._record(self.shortcuts, callback_id)

    def shortcut(self, callback_id: str, **_: Any) -> Any:
        return self._record(self.shortcuts, callback_id)

    def action(self, action_id: str, **_: Any) -> Any:
        return self._record(self.actions, action_id)

    def command(self, name: str, **_: Any) -> Any:
        return lambda fn: fn

    def view(self, callback_id: str, **_: Any) -> Any:
        return lambda fn: fn

    def error(self, fn: Any) -> Any:
        return fn

    def enable_token_revocation_listeners(self) -> None:
        self.events |= {"app_uninstalled", "tokens_revoked"}


def _registered(tmp_path: Path, *, oauth: bool) -> Recorder:
    settings = load_settings(_env_file=None, lorebot_data_dir=tmp_path)
    app = Recorder(oauth=oauth)
    SlackListeners(object(), settings, inline=True).register(app)  # type: ignore[arg-type]
    register_surfaces(app, object(), settings, inline=True)  # type: ignore[arg-type]
    return app


def _subscribed(manifest: dict[str, Any]) -> set[str]:
    return set(manifest["settings"]["event_subscriptions"]["bot_events"])


def _as_listened(events: set[str]) -> set[str]:
    return {"message" if e in MESSAGE_EVENTS else e for e in events}


@pytest.mark.parametrize("path", [MANIFEST, SOCKET_MANIFEST], ids=["http", "socket"])
def test_manifest_matches_the_adapter(path: Path, tmp_path: Path) -> None:
    manifest = yaml.safe_load(path.read_text())
    events = _subscribed(manifest)
    assert {"app_mention", "message.im", "message.channels", "reaction_added",
            "reaction_removed", "app_home_opened", "app_uninstalled", "tokens_revoked"} <= events
    # Every event the code listens for is subscribed, and every subscription has a listener.
    registered = _registered(tmp_path, oauth=True)
    # The legacy assistant_view events are listened for (older installs) but not subscribed.
    assert _as_listened(events) == registered.events - agent.LEGACY_EVENTS
    assert registered.events >= agent.LEGACY_EVENTS and not agent.LEGACY_EVENTS & events
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # One scope per Web API method or event the adapter relies on; OAuth asks for the same.
    assert {"app_mentions:read", "assistant:write", "chat:write", "commands", "reactions:read",
            "reactions:write", "im:history", "channels:history", "users:read"} <= scopes
    assert scopes == set(installation.BOT_SCOPES)
    assert not any(s.startswith(("admin", "files:write", "users:write")) for s in scopes)
    features = manifest["features"]
    assert "agent_view" in features and features["agent_view"]["agent_description"]
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True
    (shortcut,) = features["shortcuts"]
    assert shortcut["type"] == "message" and shortcut["callback_id"] == shortcuts.ASK_ABOUT_THIS
    assert registered.shortcuts == {shortcut["callback_id"]}
    assert len(shortcut["name"]) <= 25 and len(shortcut["description"]) <= 80  # Slack's limits
    (command,) = features["slash_commands"]
    assert command["command"] == "/lore"
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_http_manifest_points_every_url_at_lorebot_serve() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["features"]["slash_commands"][0]["url"].endswith("/slack/events")
    assert manifest["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    (redirect,) = manifest["oauth_config"]["redirect_urls"]
    assert redirect.endswith(installation.REDIRECT_PATH)
    assert manifest["settings"]["socket_mode_enabled"] is False


def test_socket_manifest_is_the_same_app_without_urls() -> None:
    http = yaml.safe_load(MANIFEST.read_text())
    socket = yaml.safe_load(SOCKET_MANIFEST.read_text())
    assert socket["settings"]["socket_mode_enabled"] is True
    # Slack refuses request URLs in a Socket Mode manifest; nothing else may differ.
    assert "request_url" not in socket["settings"]["event_subscriptions"]
    assert "request_url" not in socket["settings"]["interactivity"]
    assert "url" not in socket["features"]["slash_commands"][0]
    assert "redirect_urls" not in socket["oauth_config"]
    assert socket["oauth_config"]["scopes"] == http["oauth_config"]["scopes"]
    assert _subscribed(socket) == _subscribed(http)
    assert socket["features"]["shortcuts"] == http["features"]["shortcuts"]
    assert socket["features"]["agent_view"] == http["features"]["agent_view"]


def test_single_token_mode_registers_no_uninstall_listeners(tmp_path: Path) -> None:
    # Without OAuth there is no installation store: uninstalling needs no listener of ours.
    assert not {"app_uninstalled", "tokens_revoked"} & _registered(tmp_path, oauth=False).events
