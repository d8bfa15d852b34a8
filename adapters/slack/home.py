"""The Home tab: ``app_home_opened`` (tab ``home``) -> ``views.publish``; its admin buttons.

The content comes from the core (``core.home``, built by :func:`bot.home.home_data`: admins
get failing sources, the week's gaps and satisfaction) and is drawn by
:func:`adapters.slack.home_view.home_view`. A
button runs an admin command (``sources reindex NAME``, ``gaps``) through ``core.command``,
the same router path as ``/lore admin``, so authorization and the audit log are the same;
the result arrives in the person's DM with lorebot, and the Home tab is refreshed.
"""

from __future__ import annotations

import logging
import shlex
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack import render, translate
from adapters.slack.admins import platform_admin
from adapters.slack.home_view import HOME_GAPS, HOME_REINDEX, home_view
from adapters.slack.workspace import workspace_channel
from bot.ports import Core
from bot.settings import Settings
from bot.types import Actor

log = logging.getLogger(__name__)


def is_home_tab(event: dict[str, Any]) -> bool:
    """Only the Home tab; ``tab == "messages"`` is the agent pane's (another listener)."""
    return event.get("tab") == "home"


class HomeTab:
    def __init__(self, core: Core, settings: Settings, *, per_workspace: bool) -> None:
        self.core = core
        self.settings = settings
        self.per_workspace = per_workspace

    def register(self, app: App) -> None:
        app.event("app_home_opened", matchers=[is_home_tab])(self.on_home_opened)
        app.action(HOME_REINDEX)(self.on_button)
        app.action(HOME_GAPS)(self.on_button)

    def _viewer(self, client: WebClient, user_id: str) -> Actor:
        flag = self.settings.trust_platform_admins and platform_admin(client, user_id)
        return translate.actor(user_id, platform_admin=flag)

    def publish(self, client: WebClient, user_id: str) -> None:
        viewer = self._viewer(client, user_id)
        data = self.core.home(viewer)
        client.views_publish(user_id=user_id, view=home_view(data))

    def on_home_opened(self, event: dict[str, Any], client: WebClient) -> None:
        user_id = event.get("user")
        if not user_id:
            return
        try:
            self.publish(client, user_id)
        except Exception:  # a Home tab that fails to draw must not break event handling
            log.exception("could not publish the Home tab")

    def on_button(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                  context: BoltContext) -> None:
        ack()
        user_id = (body.get("user") or {}).get("id")
        if not user_id:
            return
        if action.get("action_id") == HOME_REINDEX:
            text = "sources reindex " + shlex.quote(action.get("value") or "")
        else:
            text = "gaps --days 7"
        try:
            dm = client.conversations_open(users=user_id)["channel"]["id"]
        except (SlackApiError, KeyError, TypeError):
            log.exception("could not open the DM to report a Home tab command")
            return
        channel = workspace_channel(dm, context.team_id, per_workspace=self.per_workspace,
                                    channel_type="im")

        def say(message: str) -> None:
            for part in render.render_text(message):
                client.chat_postMessage(channel=dm, text=part.text, blocks=part.blocks)

        try:
            result = self.core.command(text, actor=self._viewer(client, user_id), channel=channel,
                                       notify=say)
            say(result.text)
        except Exception:
            log.exception("a Home tab command failed", extra={"command": text.split(" ")[0]})
            say("Sorry, that did not work; try `/lore admin " + text + "` to see the error.")
            return
        try:
            self.publish(client, user_id)
        except Exception:
            log.exception("could not refresh the Home tab after a command")
