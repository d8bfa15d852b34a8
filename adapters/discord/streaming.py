"""An answer shown while a model writes it: one Discord message, edited as text arrives.

The core calls the sink from its answering thread; each delta is handed to the event loop with
``loop.call_soon_threadsafe`` (discord.py objects are not thread-safe). Deltas are coalesced and
the message is edited at most once per ``interval_s`` (about one a second: Discord allows five
edits per five seconds on a channel, and the answer's own sends share that budget). The draft is
plain text; the finished answer (embed, sources, buttons) replaces it when ``ask`` returns, and
a failure replaces it with the apology, so a half answer without sources never stays up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

log = logging.getLogger(__name__)

DRAFT_LIMIT = 2000
WRITING = " …"


def draft_text(text: str, limit: int = DRAFT_LIMIT) -> str:
    """What the draft message shows: the text so far and a "still writing" mark, within the
    2,000-character message limit (the start is kept; the final answer is split properly)."""
    text = text.strip()
    room = limit - len(WRITING)
    if len(text) > room:
        text = text[: room - 1].rstrip() + "…"
    return (text or "…") + WRITING


class DraftStream:
    """Collects deltas from any thread and keeps one draft message up to date on ``loop``.

    ``send(content=...)`` creates the draft (a thread send, a reply, an interaction follow-up);
    edits go through the returned message's ``edit``. ``finish`` stops editing and hands back
    the draft message (None if nothing was streamed, e.g. an extractive answer)."""

    def __init__(self, send: Callable[..., Awaitable[discord.Message | None]], *,
                 loop: asyncio.AbstractEventLoop, interval_s: float = 1.0,
                 allowed_mentions: discord.AllowedMentions | None = None) -> None:
        self._send = send
        self._loop = loop
        self._interval_s = interval_s
        self._mentions = allowed_mentions
        self._text = ""
        self._shown = ""
        self._wake = asyncio.Event()
        self._closed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.message: Any = None
        self.edits = 0

    # --- called from the answering thread ---
    def sink(self, delta: str) -> None:
        if delta:
            self._loop.call_soon_threadsafe(self._on_delta, delta)

    # --- on the event loop ---
    def _on_delta(self, delta: str) -> None:
        if self._closed.is_set():
            return
        self._text += delta
        self._wake.set()
        if self._task is None:
            self._task = self._loop.create_task(self._pump())

    async def _pump(self) -> None:
        while not self._closed.is_set():
            await self._wake.wait()
            self._wake.clear()
            if self._closed.is_set():
                return
            try:
                await self._flush()
            except Exception as exc:  # noqa: BLE001
                # A draft that cannot be shown is not worth failing the answer for.
                log.warning("could not update the streamed draft (%s)", type(exc).__name__,
                            exc_info=not isinstance(exc, discord.HTTPException))
            # At most one edit per interval; finishing ends the wait at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), self._interval_s)

    async def _flush(self) -> None:
        text = draft_text(self._text)
        if text == self._shown:
            return
        kwargs: dict[str, Any] = {"content": text}
        if self._mentions is not None:
            kwargs["allowed_mentions"] = self._mentions
        if self.message is None:
            self.message = await self._send(**kwargs)
        else:
            await self.message.edit(**kwargs)
            self.edits += 1
        self._shown = text

    async def finish(self) -> Any:
        """Stop editing (after an edit in flight) and return the draft message, if any."""
        self._closed.set()
        self._wake.set()
        if self._task is not None:
            await self._task
        return self.message
