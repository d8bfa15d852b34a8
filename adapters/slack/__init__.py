"""The Slack adapter (slack-bolt). The only place, with ``adapters/``, that imports the Slack SDK.

``translate`` and ``render`` are pure; ``app.create_app`` builds the bolt app; ``http`` mounts it
on lorebot's server at ``/slack/events``; ``socket`` runs it in Socket Mode. Nothing heavy is
imported here, so ``lorebot`` works without the ``slack`` extra installed.
"""

from __future__ import annotations

from typing import Literal

from bot.settings import Settings


def slack_mode(settings: Settings) -> Literal["socket", "http"] | None:
    """How Slack should run with these settings, or None when no bot token is configured.

    OAuth (``SLACK_CLIENT_ID`` / ``SLACK_CLIENT_SECRET`` / ``SLACK_STATE_SECRET``) needs no bot
    token and is HTTP only: Socket Mode apps cannot be distributed to other workspaces."""
    if settings.has("slack_client_id") and settings.has("slack_client_secret"):
        return "http"
    if not settings.has("slack_bot_token"):
        return None
    return "socket" if settings.has("slack_app_token") else "http"
