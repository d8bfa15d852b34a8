"""Slack surfaces beyond messages: the Home tab, the message shortcut, and (OAuth) uninstalls.

``register_surfaces`` is called once from ``create_app``; it registers its own listeners on
the bolt ``App`` and touches nothing of the message listeners (``listeners.py``). Every
listener here is specific enough (``app_home_opened`` only for ``tab == "home"``, its own
action and callback ids) that it never shadows another: bolt runs the first listener that
matches an event.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import App

from adapters.slack.home import HomeTab
from adapters.slack.shortcuts import MessageShortcut
from bot.ports import Core
from bot.settings import Settings


@dataclass
class Surfaces:
    home: HomeTab
    shortcut: MessageShortcut

    def close(self, wait: bool = True) -> None:
        self.shortcut.close(wait=wait)


def register_surfaces(app: App, core: Core, settings: Settings, *, inline: bool = False) -> Surfaces:
    # Installed through OAuth (an installation store): channels are keyed by workspace, and
    # app_uninstalled / tokens_revoked delete that workspace's tokens (bolt's own listeners).
    per_workspace = app.installation_store is not None
    if per_workspace:
        app.enable_token_revocation_listeners()
    home = HomeTab(core, settings, per_workspace=per_workspace)
    home.register(app)
    shortcut = MessageShortcut(core, settings, per_workspace=per_workspace, inline=inline)
    shortcut.register(app)
    return Surfaces(home=home, shortcut=shortcut)
