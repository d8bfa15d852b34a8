"""What every chat-history source (Slack, Discord) keeps between runs.

Each channel's position (the newest message id or timestamp read) is saved as the source's
cursor, so a run reads only what is new, plus a look-back window for late thread replies.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from knowledge.sources.base import SourceSpec

log = logging.getLogger(__name__)


class ChannelHistoryState:
    """Options, per-channel positions and completeness shared by the chat-history sources."""

    default_lookback_days: float = 7

    def __init__(self, spec: SourceSpec, settings: Any, *, channels: list[str],
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.spec = spec
        self.settings = settings
        self.channels = channels
        options = spec.options or {}
        self.lookback = timedelta(days=float(options.get("lookback_days", self.default_lookback_days)))
        self.include_bots = bool(options.get("include_bots", False))
        self.max_messages = int(options.get("max_messages", 20_000))
        self._sleep = sleep
        self._complete = False
        self._positions: dict[str, str] = {}
        if spec.cursor:
            try:
                self._positions = {str(k): str(v) for k, v in json.loads(spec.cursor).items()}
            except (ValueError, AttributeError):
                log.warning("unreadable %s source cursor ignored; reading the full history", spec.kind)

    @property
    def complete(self) -> bool:
        return self._complete

    @property
    def cursor(self) -> str | None:
        return json.dumps(self._positions, sort_keys=True) if self._positions else None
