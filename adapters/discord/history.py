"""Discord channel history as a knowledge source (kind ``discord``).

``location`` lists channel or thread ids (``discord:123,456`` or ``123 456``; in Discord a
thread is a channel too). Messages are gathered into one document per channel per UTC day, so a
chunk holds a conversation rather than a lone line; a thread listed on its own gives its own
day documents. Authors are left out: the knowledge is what was said, and user ids are personal
data. Bots' messages are skipped unless ``include_bots`` is set.

Incremental by message id: the cursor remembers, per channel, the newest message id seen; the
next run asks Discord for messages *after* the first snowflake of that message's day minus
``lookback_days`` (option, default 2), so day documents are rebuilt whole (unchanged ones cost
nothing downstream: the pipeline compares content hashes). HTTP 429 waits the ``retry_after``
Discord names, then retries.

Reading message text over the REST API needs the bot's Message Content intent, and the bot
needs View Channel and Read Message History in each channel.

Options: ``lookback_days`` (2), ``include_bots`` (false), ``max_messages`` per channel (20000).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.settings import Settings
from knowledge.sources.base import SourceSpec, SourceUnavailable
from knowledge.sources.channel_history import ChannelHistoryState
from knowledge.types import Document, DocumentError

log = logging.getLogger(__name__)

API_BASE = "https://discord.com/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000
PAGE = 100
MAX_RETRIES = 5
# Only people's messages and replies carry knowledge; joins, pins, boosts and the like do not.
_TEXT_TYPES = {0, 19}


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)


def snowflake_at(moment: datetime) -> int:
    """The smallest snowflake at ``moment``: ``after=`` this id returns messages from then on."""
    ms = int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS
    return max(ms, 0) << 22


def parse_channels(location: str) -> list[str]:
    """``discord:123,456`` (or ``123 456``) -> channel ids."""
    text = location.strip()
    if text.lower().startswith("discord:"):
        text = text[len("discord:"):]
    channels = [c.strip().lstrip("#") for c in text.replace(",", " ").split() if c.strip()]
    if not channels or not all(c.isdigit() and 15 <= len(c) <= 21 for c in channels):
        raise ValueError(
            f"discord source location must list channel ids like discord:123456789012345678 (got "
            f"{location!r}); in Discord turn on Developer Mode and use 'Copy Channel ID'"
        )
    return channels


class DiscordHistorySource(ChannelHistoryState):
    default_lookback_days = 2

    def __init__(self, spec: SourceSpec, settings: Settings, *, client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(spec, settings, channels=parse_channels(spec.location), sleep=sleep)
        self._client = client

    def load(self, *, since: datetime | None = None) -> Iterator[Document | DocumentError]:
        client = self._client or self._make_client()
        complete = True
        try:
            for channel in self.channels:
                after = self._after(channel, since)
                complete = complete and after is None
                try:
                    yield from self._channel(client, channel, after)
                except _ChannelRefused as exc:
                    complete = False
                    yield DocumentError(channel, str(exc))
        finally:
            if self._client is None:
                client.close()
        self._complete = complete

    # --- internals ---
    def _make_client(self) -> httpx.Client:
        token = self.settings.secret("discord_token")
        return httpx.Client(base_url=API_BASE, timeout=30,
                            headers={"Authorization": f"Bot {token}",
                                     "User-Agent": self.settings.ingest_user_agent})

    def _after(self, channel: str, since: datetime | None) -> int | None:
        position = self._positions.get(channel)
        start = snowflake_time(int(position)) if position else since
        if start is None:
            return None
        day = (start.astimezone(UTC) - self.lookback).replace(hour=0, minute=0, second=0, microsecond=0)
        return max(snowflake_at(day) - 1, 0)

    def _get(self, client: httpx.Client, path: str, **params: Any) -> Any:
        for attempt in range(MAX_RETRIES + 1):
            response = client.get(path, params=params)
            if response.status_code == 429 and attempt < MAX_RETRIES:
                try:
                    wait = float(response.json().get("retry_after", 1))
                except ValueError:
                    wait = float(response.headers.get("retry-after", 1))
                log.info("Discord rate limit hit; waiting", extra={"seconds": wait})
                self._sleep(min(max(wait, 0.0), 120.0))
                continue
            if response.status_code == 401:
                raise SourceUnavailable("Discord refused the bot token; check DISCORD_TOKEN")
            if response.status_code in (403, 404):
                raise _ChannelRefused(
                    f"cannot read {path} (HTTP {response.status_code}); give lorebot View Channel "
                    "and Read Message History there, and check the id")
            response.raise_for_status()
            return response.json()
        raise SourceUnavailable("Discord kept rate-limiting lorebot; try again later")

    def _channel(self, client: httpx.Client, channel: str, after: int | None
                 ) -> Iterator[Document | DocumentError]:
        info = self._get(client, f"/channels/{channel}")
        name = info.get("name") or channel
        guild = info.get("guild_id") or "@me"
        by_day: dict[str, list[dict]] = defaultdict(list)
        cursor = after if after is not None else 0
        seen = 0
        newest = self._positions.get(channel)
        while seen < self.max_messages:
            page = self._get(client, f"/channels/{channel}/messages", limit=PAGE, after=cursor)
            if not page:
                break
            page.sort(key=lambda m: int(m["id"]))
            for message in page:
                seen += 1
                if message.get("type", 0) not in _TEXT_TYPES:
                    continue
                if message.get("author", {}).get("bot") and not self.include_bots:
                    continue
                text = (message.get("content") or "").strip()
                if not text:
                    continue
                day = snowflake_time(int(message["id"])).date().isoformat()
                by_day[day].append(message)
            cursor = int(page[-1]["id"])
            newest = str(max(int(newest or 0), cursor))
            if len(page) < PAGE:
                break
        if newest:
            self._positions[channel] = newest
        for day, messages in sorted(by_day.items()):
            first, last = messages[0], messages[-1]
            yield Document(
                external_id=f"{channel}/{day}",
                text="\n\n".join(m["content"].strip() for m in messages),
                title=f"#{name} on {day}",
                uri=f"https://discord.com/channels/{guild}/{channel}/{first['id']}",
                mime="text/plain",
                updated_at=snowflake_time(int(last["id"])),
                metadata={"platform": "discord", "channel": channel, "day": day,
                          "messages": len(messages)},
            )


class _ChannelRefused(Exception):
    """One channel cannot be read; the others go on."""


def discord_source(spec: SourceSpec, settings: Settings) -> DiscordHistorySource:
    """Entry point ``lorebot.sources: discord``."""
    return DiscordHistorySource(spec, settings)
