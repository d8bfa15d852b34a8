"""Slack surfaces beyond messages: the Home tab, the message shortcut, and (OAuth) uninstalls.

``register_surfaces`` is called once from ``create_app``; it registers its own listeners on
the bolt ``App`` and touches nothing of the message listeners (``listeners.py``). Every
listener here is specific enough (``app_home_opened`` only for ``tab == "home"``, its own
action and callback ids) that it never shadows another: bolt runs the first listener that
matches an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import App

from adapters.slack.home import HomeTab
from adapters.slack.shortcuts import MessageShortcut
from bot.ratelimit import RateLimiter
from bot.settings import Settings


@dataclass
class Surfaces:
    home: HomeTab
    shortcut: MessageShortcut

    def close(self, wait: bool = True) -> None:
        self.shortcut.close(wait=wait)


def register_surfaces(app: App, core: Any, settings: Settings, *, inline: bool = False) -> Surfaces:
    # Installed through OAuth (an installation store): channels are keyed by workspace, and
    # app_uninstalled / tokens_revoked delete that workspace's tokens (bolt's own listeners).
    per_workspace = app.installation_store is not None
    if per_workspace:
        app.enable_token_revocation_listeners()
    # The core's limiter when it has one (shared with the message path), else one over the
    # core's database: its windows are in Postgres, so every replica counts against one limit.
    limiter = getattr(core, "rate_limiter", None) or RateLimiter.from_settings(
        settings, getattr(core, "db", None))
    home = HomeTab(core, settings, per_workspace=per_workspace)
    home.register(app)
    shortcut = MessageShortcut(core, settings, limiter=limiter, per_workspace=per_workspace, inline=inline)
    shortcut.register(app)
    return Surfaces(home=home, shortcut=shortcut)
