"""Building the slack-bolt ``App`` that lorebot runs, in HTTP or Socket Mode."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from adapters.slack.listeners import SlackListeners
from bot.core import LoreBot
from bot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"


SIGNATURE_CLAIMS = "slack-signature"  # processed_events namespace for request signatures (pruned with it)


def make_client(settings: Settings) -> WebClient:
    """A Web API client with the bot token, ``SLACK_API_URL`` honoured, 429s retried."""
    token = settings.secret("slack_bot_token")
    base_url = settings.slack_api_url or DEFAULT_API_URL
    if not base_url.endswith("/"):
        base_url += "/"
    client = WebClient(token=token, base_url=base_url, timeout=30)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def create_app(
    core: LoreBot,
    settings: Settings,
    *,
    client: WebClient | None = None,
    socket_mode: bool = False,
    process_before_response: bool = False,
) -> App:
    """The bolt ``App`` with lorebot's listeners registered.

    HTTP mode needs ``SLACK_SIGNING_SECRET`` (bolt answers 401 to a bad signature or a
    timestamp older than five minutes); Socket Mode needs none. ``process_before_response``
    is for tests only: in production bolt acknowledges at once and runs the listener on its
    thread pool, since Slack gives up on a request that takes over three seconds.
    Constructing the app calls ``auth.test`` once, so a wrong token fails here, loudly.
    """
    client = client or make_client(settings)
    signing_secret = "" if socket_mode else settings.secret("slack_signing_secret")
    app = App(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=not socket_mode,
        process_before_response=process_before_response,
        name="lorebot",
        logger=logging.getLogger("slack_bolt.lorebot"),
    )
    listeners = SlackListeners(core, settings, inline=process_before_response)
    listeners.register(app)
    # ``lorebot serve`` drains in-flight answers on shutdown through this.
    app.lorebot_listeners = listeners  # type: ignore[attr-defined]
    # HTTP mode refuses a replayed signed request: each signature is claimed once, in the database.
    app.lorebot_claim_signature = lambda signature: core.claim_event(  # type: ignore[attr-defined]
        platform=SIGNATURE_CLAIMS, event_id=signature)
    return app
