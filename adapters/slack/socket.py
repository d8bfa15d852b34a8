"""Socket Mode: lorebot opens a WebSocket to Slack, so no public HTTP endpoint is needed.

Used when ``SLACK_APP_TOKEN`` (``xapp-...``, with the ``connections:write`` scope) is set.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.settings import Settings

log = logging.getLogger(__name__)


def socket_handler(app: App, settings: Settings) -> SocketModeHandler:
    """A handler ready to ``connect()`` (returns at once) or ``start()`` (blocks)."""
    return SocketModeHandler(app, app_token=settings.secret("slack_app_token"))


def start_socket_mode(app: App, settings: Settings) -> SocketModeHandler:
    """Connect in the background and return the handler; call ``close()`` on shutdown."""
    handler = socket_handler(app, settings)
    handler.connect()
    log.info("Slack connected in Socket Mode")
    return handler
