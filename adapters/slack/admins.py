"""Is a Slack user a workspace admin or owner? (``users.info``; used only when the operator
trusts platform admins, ``TRUST_PLATFORM_ADMINS``.) One lookup for the message listeners and
the Home tab; the listeners keep it cached."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

_ADMIN_TTL_S = 600.0


def platform_admin(client: WebClient, user_id: str) -> bool:
    """Workspace admin/owner per ``users.info``; False when Slack cannot say (missing scope)."""
    return bool(_lookup(client, user_id))


def _lookup(client: WebClient, user_id: str) -> bool | None:
    """The flag, or None when ``users.info`` failed (not cached: the next call asks again)."""
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except SlackApiError as exc:
        log.warning("users.info failed; treating the user as not a workspace admin",
                    extra={"error": exc.response.get("error")})
        return None
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


class PlatformAdmins:
    """Workspace admin/owner flags from ``users.info``, cached so a busy admin costs one call."""

    def __init__(self, ttl_s: float = _ADMIN_TTL_S) -> None:
        self._ttl = ttl_s
        self._cache: dict[str, tuple[bool, float]] = {}
        self._lock = threading.Lock()

    def is_admin(self, client: WebClient, user_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(user_id)
        if hit and hit[1] > now:
            return hit[0]
        flag = _lookup(client, user_id)
        if flag is None:
            return False
        with self._lock:
            self._cache[user_id] = (flag, now + self._ttl)
        return flag
