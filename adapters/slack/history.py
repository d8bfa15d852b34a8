"""Slack channel history as a knowledge source (kind ``slack``).

``location`` lists channel ids (``C0123,C0456``, or ``slack:C0123,C0456``). Each thread becomes
one document (the root and its replies), and the other messages of a channel are gathered into
one document per UTC day, so a chunk holds a conversation rather than a lone line. Authors are
left out: the knowledge is what was said, and user ids are personal data.

Incremental: the cursor remembers, per channel, the newest message seen; the next run reads
from the start of that day minus ``lookback_days`` (option, default 7), so day documents are
always rebuilt whole and replies added to recent threads are picked up. Unchanged documents cost
nothing downstream (the pipeline compares content hashes). Slack's rate limits are respected:
an HTTP 429 waits the ``Retry-After`` seconds it names, then retries.

Options: ``lookback_days`` (7), ``include_bots`` (false), ``max_messages`` per channel (20000).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack import translate
from adapters.slack.app import DEFAULT_API_URL
from bot.settings import Settings
from knowledge.sources.base import SourceSpec, SourceUnavailable
from knowledge.sources.channel_history import ChannelHistoryState
from knowledge.types import Document, DocumentError

log = logging.getLogger(__name__)

MAX_RETRIES = 5
PAGE = 200
_SKIP_SUBTYPES = {"channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name",
                  "pinned_item", "unpinned_item", "message_deleted", "message_changed", "tombstone"}


def _dt(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


def parse_channels(location: str) -> list[str]:
    """``C0123,C0456`` (optionally ``slack:C0123 C0456``) -> channel ids."""
    if location.lower().startswith("slack:"):
        location = location[len("slack:"):]
    channels = [c.strip().lstrip("#") for c in location.replace(",", " ").split() if c.strip()]
    bad = [c for c in channels if c[:1] not in {"C", "G", "D"} or not c.isalnum()]
    if not channels or bad:
        raise ValueError(
            f"slack source location must list channel ids like C0123ABC (got {location!r}); "
            "find a channel's id in its details panel in Slack"
        )
    return channels


class SlackHistorySource(ChannelHistoryState):
    default_lookback_days = 7

    def __init__(
        self,
        spec: SourceSpec,
        settings: Settings,
        *,
        client: WebClient | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(spec, settings, channels=parse_channels(spec.location), sleep=sleep)
        self._client = client
        self._workspace_url = ""

    def load(self, *, since: datetime | None = None) -> Iterator[Document | DocumentError]:
        client = self._client or self._make_client()
        try:
            self._workspace_url = (self._call(client, "auth.test").get("url") or "").rstrip("/")
        except SlackApiError as exc:
            raise SourceUnavailable(
                f"Slack refused the bot token ({exc.response.get('error')}); check SLACK_BOT_TOKEN"
            ) from exc
        complete = True
        for channel in self.channels:
            oldest = self._oldest(channel, since)
            complete = complete and oldest is None
            try:
                yield from self._channel(client, channel, oldest)
            except SlackApiError as exc:
                complete = False
                error = exc.response.get("error")
                hint = ("invite lorebot to the channel (/invite @lorebot)"
                        if error in {"not_in_channel", "channel_not_found"} else "try again later")
                yield DocumentError(channel, f"cannot read channel {channel}: {error}; {hint}")
        self._complete = complete

    # --- internals ---
    def _make_client(self) -> WebClient:
        base_url = self.settings.slack_api_url or DEFAULT_API_URL
        return WebClient(token=self.settings.secret("slack_bot_token"),
                         base_url=base_url if base_url.endswith("/") else base_url + "/", timeout=30)

    def _oldest(self, channel: str, since: datetime | None) -> float | None:
        """Where to start reading ``channel``: the start of the day of the last position,
        minus the lookback; None reads everything."""
        position = self._positions.get(channel)
        start = _dt(position) if position else since
        if start is None:
            return None
        start = (start - self.lookback).astimezone(UTC)
        return start.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()

    def _call(self, client: WebClient, method: str, **params: Any) -> dict[str, Any]:
        """One Web API call, waiting out HTTP 429 with the Retry-After Slack names."""
        for attempt in range(MAX_RETRIES + 1):
            try:
                return client.api_call(method, params=params).data  # type: ignore[return-value]
            except SlackApiError as exc:
                if exc.response.status_code != 429 or attempt == MAX_RETRIES:
                    raise
                headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
                raw = headers.get("retry-after", "1")
                wait = float(raw[0] if isinstance(raw, list) else raw)
                log.info("Slack rate limit hit; waiting", extra={"method": method, "seconds": wait})
                self._sleep(min(max(wait, 0.0), 120.0))
        raise AssertionError("unreachable")

    def _pages(self, client: WebClient, method: str, **params: Any) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            data = self._call(client, method, limit=PAGE, **params, **({"cursor": cursor} if cursor else {}))
            yield from data.get("messages") or []
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not data.get("has_more") or not cursor:
                return

    def _keep(self, message: dict[str, Any]) -> bool:
        if message.get("subtype") in _SKIP_SUBTYPES or not (message.get("text") or "").strip():
            return False
        return self.include_bots or not (message.get("bot_id") or message.get("subtype") == "bot_message")

    def _channel(self, client: WebClient, channel: str,
                 oldest: float | None) -> Iterator[Document | DocumentError]:
        name = channel
        try:
            name = (self._call(client, "conversations.info", channel=channel).get("channel") or {}).get(
                "name") or channel
        except SlackApiError as exc:
            if exc.response.get("error") in {"not_in_channel", "channel_not_found"}:
                raise
        params: dict[str, Any] = {"channel": channel}
        if oldest is not None:
            params["oldest"] = f"{oldest:.6f}"
        days: dict[str, list[dict[str, Any]]] = defaultdict(list)
        newest = self._positions.get(channel)
        seen = 0
        for message in self._pages(client, "conversations.history", **params):
            seen += 1
            if seen > self.max_messages:
                log.warning("slack source hit max_messages; older history skipped",
                            extra={"channel": channel, "max_messages": self.max_messages})
                break
            ts = message.get("ts")
            if not ts:
                continue
            if newest is None or float(ts) > float(newest):
                newest = ts
            if message.get("reply_count") and message.get("thread_ts") == ts:
                document = self._thread(client, channel, name, message)
                if document is not None:
                    yield document
            elif self._keep(message):
                days[_dt(ts).date().isoformat()].append(message)
        for day, messages in sorted(days.items()):
            messages.sort(key=lambda m: float(m["ts"]))
            lines = [translate.clean_text(m.get("text", ""), tidy=False) for m in messages]
            text = "\n\n".join(line for line in lines if line)
            if not text:
                continue
            yield Document(
                external_id=f"{channel}/day/{day}", text=text, title=f"#{name}, {day}",
                uri=self._permalink(channel, messages[0]["ts"]), mime="text/plain",
                updated_at=_dt(messages[-1]["ts"]),
                metadata={"platform": "slack", "channel": channel, "kind": "day"},
            )
        if newest:
            self._positions[channel] = newest

    def _thread(self, client: WebClient, channel: str, name: str,
                root: dict[str, Any]) -> Document | DocumentError | None:
        ts = root["ts"]
        try:
            replies = list(self._pages(client, "conversations.replies", channel=channel, ts=ts))
        except SlackApiError as exc:
            return DocumentError(f"{channel}/thread/{ts}",
                                 f"cannot read thread {ts}: {exc.response.get('error')}; retried next run")
        messages = [m for m in (replies or [root]) if self._keep(m)]
        if not messages:
            return None
        messages.sort(key=lambda m: float(m["ts"]))
        lines = [translate.clean_text(m.get("text", ""), tidy=False) for m in messages]
        first = lines[0].split("\n", 1)[0]
        return Document(
            external_id=f"{channel}/thread/{ts}",
            text="\n\n".join(line for line in lines if line),
            title=f"#{name}: {first[:80]}{'…' if len(first) > 80 else ''}",
            uri=self._permalink(channel, ts), mime="text/plain",
            updated_at=_dt(messages[-1]["ts"]),
            metadata={"platform": "slack", "channel": channel, "kind": "thread",
                      "replies": len(messages) - 1},
        )

    def _permalink(self, channel: str, ts: str) -> str:
        base = self._workspace_url or "https://slack.com"
        return f"{base}/archives/{channel}/p{ts.replace('.', '')}"


def slack_source(spec: SourceSpec, settings: Settings) -> SlackHistorySource:
    """Entry point ``lorebot.sources: slack``."""
    return SlackHistorySource(spec, settings)
