"""OAuth: lorebot installed on many workspaces, each with its own bot token.

With ``SLACK_CLIENT_ID``, ``SLACK_CLIENT_SECRET`` and ``SLACK_STATE_SECRET`` set (HTTP mode),
the bolt ``App`` gets bolt's ``OAuthSettings``: ``GET /slack/install`` starts an install,
``GET /slack/oauth_redirect`` finishes it (``oauth.v2.access``), and every event is authorized
with the token of the workspace it came from (bolt's installation-store authorize). The stores
are slack_sdk's SQLAlchemy ones over lorebot's own Postgres engine; their tables come from
migration 0010, never from ``create_tables()`` at run time.

No public URL is configured: the authorize URL carries no ``redirect_uri``, so Slack uses the
one in the app's manifest (``oauth_config.redirect_urls``), and the token exchange sends none
either. That is what lets lorebot sit behind any proxy.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

from bot.settings import ConfigError, Settings

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_EXPIRATION_S = 600
OAUTH_SETTINGS = ("slack_client_id", "slack_client_secret", "slack_state_secret")

# What an install asks for; tests/unit/test_slack_manifest.py checks the manifest says the same.
BOT_SCOPES = (
    "app_mentions:read", "assistant:write", "chat:write", "commands", "reactions:read",
    "reactions:write", "im:history", "im:read", "im:write", "channels:history", "groups:history",
    "channels:read", "groups:read", "users:read",
)


def oauth_enabled(settings: Settings) -> bool:
    """True when all three OAuth settings are set; only some of them is a configuration error."""
    present = [name for name in OAUTH_SETTINGS if settings.has(name)]
    if present and len(present) < len(OAUTH_SETTINGS):
        missing = sorted(set(OAUTH_SETTINGS) - set(present))
        raise ConfigError("Slack OAuth needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET; "
                          f"missing: {', '.join(n.upper() for n in missing)}")
    return bool(present)


class SignedStateStore(OAuthStateStore):
    """The database state store, with each state signed by ``SLACK_STATE_SECRET``.

    A state that was not issued here is refused by its signature, before any database lookup;
    the database row still makes each state usable once and only for ten minutes.
    """

    def __init__(self, inner: OAuthStateStore, secret: str) -> None:
        self.inner = inner
        self._key = secret.encode()

    @property
    def logger(self) -> logging.Logger:
        return log

    def _sign(self, raw: str) -> str:
        return hmac.new(self._key, raw.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, *args: Any, **kwargs: Any) -> str:
        raw = self.inner.issue(*args, **kwargs)
        return f"{raw}.{self._sign(raw)}"

    def consume(self, state: str) -> bool:
        raw, _, signature = (state or "").rpartition(".")
        if not raw or not hmac.compare_digest(signature, self._sign(raw)):
            log.warning("Slack OAuth state with a bad signature refused")
            return False
        return self.inner.consume(raw)


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(client_id=settings.slack_client_id or "", engine=engine,
                                       logger=logging.getLogger("slack_sdk.oauth.lorebot"))


def oauth_settings(settings: Settings, engine: Engine) -> OAuthSettings:
    """bolt's OAuth settings over lorebot's Postgres (tables from migration 0010)."""
    state_store = SignedStateStore(
        SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRATION_S, engine=engine),
        settings.secret("slack_state_secret"))
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.secret("slack_client_secret"),
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=installation_store(settings, engine),
        # Every install is the bot's; lorebot never acts with a person's token.
        installation_store_bot_only=True,
        state_store=state_store,
        state_expiration_seconds=STATE_EXPIRATION_S,
    )


def oauth_client(settings: Settings, base_url: str) -> WebClient:
    """The app's client without a token: each request gets its workspace's token from bolt."""
    client = WebClient(base_url=base_url, timeout=30)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client
