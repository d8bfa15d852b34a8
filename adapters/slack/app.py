"""Building the slack-bolt ``App`` that lorebot runs, in HTTP or Socket Mode."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy import Engine

from adapters.slack import installation
from adapters.slack.listeners import SlackListeners
from adapters.slack.surfaces import register_surfaces
from bot.ports import Core
from bot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"


def api_base_url(settings: Settings) -> str:
    base_url = settings.slack_api_url or DEFAULT_API_URL
    return base_url if base_url.endswith("/") else base_url + "/"


def make_client(settings: Settings) -> WebClient:
    """A Web API client with the bot token, ``SLACK_API_URL`` honoured, 429s retried."""
    token = settings.secret("slack_bot_token")
    client = WebClient(token=token, base_url=api_base_url(settings), timeout=30)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def create_app(
    core: Core,
    settings: Settings,
    *,
    client: WebClient | None = None,
    socket_mode: bool = False,
    process_before_response: bool = False,
    listeners: SlackListeners | None = None,
    oauth_engine: Engine | None = None,
) -> App:
    """The bolt ``App`` with lorebot's listeners registered.

    HTTP mode needs ``SLACK_SIGNING_SECRET`` (bolt answers 401 to a bad signature or a
    timestamp older than five minutes); Socket Mode needs none. ``process_before_response``
    is for tests only: in production bolt acknowledges at once and runs the listener on its
    thread pool, since Slack gives up on a request that takes over three seconds.
    Constructing the app calls ``auth.test`` once, so a wrong token fails here, loudly.
    Pass your own ``listeners`` to drain their in-flight answers at shutdown
    (``listeners.close()``, as ``lorebot serve`` does). With OAuth settings the installation
    and state stores live in lorebot's Postgres: pass its ``oauth_engine`` (``serve`` does).
    """
    # OAuth (many workspaces): tokens come from the installation store, not SLACK_BOT_TOKEN.
    oauth = None
    if not socket_mode and installation.oauth_enabled(settings):
        engine = oauth_engine or getattr(getattr(core, "db", None), "engine", None)
        if engine is None:
            raise ValueError("Slack OAuth needs the database engine for its installation store: "
                             "pass create_app(..., oauth_engine=...)")
        oauth = installation.oauth_settings(settings, engine)
    client = client or (installation.oauth_client(settings, api_base_url(settings)) if oauth
                        else make_client(settings))
    signing_secret = "" if socket_mode else settings.secret("slack_signing_secret")
    app = App(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=not socket_mode,
        process_before_response=process_before_response,
        name="lorebot",
        logger=logging.getLogger("slack_bolt.lorebot"),
        oauth_settings=oauth,
    )
    if listeners is None:
        listeners = SlackListeners(core, settings, inline=process_before_response)
    listeners.register(app)
    app.lorebot_surfaces = register_surfaces(app, core, settings,  # type: ignore[attr-defined]
                                             inline=process_before_response)
    return app
