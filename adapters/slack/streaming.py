"""Streaming an answer into its thread as the LLM writes it (``chat.startStream`` /
``appendStream`` / ``stopStream`` through ``WebClient.chat_stream``).

The stream starts lazily on the first delta, so an extractive answer (no deltas) never opens
one and is posted at once as before. Deltas are coalesced (at most one append per
``interval_s`` unless ``min_chars`` piled up) to stay inside Slack's rate limits. The streamed
text is a draft: the core's checked answer (renumbered markers, sources) replaces it when it
differs, so the message always ends as the answer with its sources and feedback, or as the
apology with its reference, never as a half answer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from adapters.slack import render
from bot.types import Answer

log = logging.getLogger(__name__)

MIN_CHARS = 200
INTERVAL_S = 0.5
# One streamed message holds standard Markdown; past this the draft stops growing (the final
# answer, split as usual, replaces it).
DRAFT_LIMIT = render.MARKDOWN_LIMIT - 1000


class AnswerStream:
    def __init__(self, client: WebClient, *, channel: str, thread_ts: str,
                 recipient_team_id: str | None = None, recipient_user_id: str | None = None,
                 min_chars: int = MIN_CHARS, interval_s: float = INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self._recipients: dict[str, Any] = {}
        if recipient_team_id and recipient_user_id:  # required in channels, not in DMs
            self._recipients = {"recipient_team_id": recipient_team_id,
                                "recipient_user_id": recipient_user_id}
        self._min_chars = min_chars
        self._interval = interval_s
        self._clock = clock
        self._stream: Any = None
        self._pending = ""
        self.sent = ""  # the draft Slack has been sent so far
        self._last = 0.0
        self.broken = False  # Slack refused a stream call: stop streaming, finish by posting
        self._lock = threading.Lock()

    @property
    def ts(self) -> str | None:
        return self._stream.ts if self._stream is not None else None

    @property
    def started(self) -> bool:
        return self.ts is not None

    # --- the core's sink (called on the answering thread) ---
    def sink(self, delta: str) -> None:
        """Never raises into the answerer: a stream Slack refuses only loses the draft."""
        with self._lock:
            if self.broken or not delta:
                return
            self._pending += delta
            now = self._clock()
            due = (self._stream is None or len(self._pending) >= self._min_chars
                   or now - self._last >= self._interval)
            if due and len(self.sent) + len(self._pending) <= DRAFT_LIMIT:
                self._flush(now)

    def _flush(self, now: float) -> None:
        try:
            if self._stream is None:
                # buffer_size=1: the SDK sends what it gets; the coalescing is ours.
                self._stream = self._client.chat_stream(channel=self.channel, thread_ts=self.thread_ts,
                                                        buffer_size=1, **self._recipients)
            self._stream.append(markdown_text=self._pending)
        except (SlackApiError, SlackRequestError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
            log.warning("streaming the answer failed; it will be posted whole", extra={"error": error})
            self.broken = True
            return
        self.sent += self._pending
        self._pending = ""
        self._last = now

    # --- the end ---
    def finish(self, answer: Answer, messages: list[render.SlackMessage], *,
               native_feedback: bool = True) -> str | None:
        """End the stream as ``answer``; the ts of the message carrying it (None: not started).

        When the checked text is the draft, stopping adds the sources and feedback below it;
        otherwise the message is replaced by the rendered answer (and any further parts of a
        long one are posted in the thread).
        """
        with self._lock:
            if not self.started:
                return None
            ts = self.ts
            draft = self.sent + self._pending
            if (not self.broken and len(messages) == 1 and len(draft) <= DRAFT_LIMIT
                    and draft.strip() == answer.text.strip()):
                self._stream.stop(markdown_text=self._pending or None,
                                  blocks=render.answer_tail(answer, native_feedback=native_feedback))
                return ts
            self._safe_stop()
            first, rest = messages[0], messages[1:]
            self._client.chat_update(channel=self.channel, ts=ts, text=first.text, blocks=first.blocks)
            for message in rest:
                self._client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts,
                                              text=message.text, blocks=message.blocks,
                                              unfurl_links=False, unfurl_media=False)
            return ts

    def fail(self, apology: str) -> bool:
        """End a started stream as the apology alone (the half answer is replaced); False when
        there is no stream, or Slack refused, so the caller posts the apology itself."""
        with self._lock:
            if not self.started:
                return False
            self._safe_stop()
            message = render.render_text(apology)[0]
            try:
                self._client.chat_update(channel=self.channel, ts=self.ts, text=message.text,
                                         blocks=message.blocks)
            except SlackApiError as exc:
                log.error("could not replace a failed stream with the apology",
                          extra={"error": exc.response.get("error")})
                return False
            return True

    def _safe_stop(self) -> None:
        try:
            self._stream.stop()
        except (SlackApiError, SlackRequestError) as exc:  # expired or already stopped
            log.info("could not stop the stream; replacing the message anyway",
                     extra={"error": exc.response.get("error") if isinstance(exc, SlackApiError)
                            else str(exc)})
