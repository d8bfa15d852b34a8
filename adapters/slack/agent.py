"""The agent pane (the app's Messages tab): suggested prompts, the status line, thread titles.

``agent_view`` apps (the default since mid-2026) get ``app_home_opened`` with ``tab ==
"messages"``; their suggested prompts are set for the whole pane, so
``assistant.threads.setSuggestedPrompts`` is called WITHOUT ``thread_ts`` (Slack ignores the
call otherwise). Apps installed with the legacy ``assistant_view`` get
``assistant_thread_started`` per thread, and there the prompts carry the thread's ts. DMs
themselves are answered by the ordinary message listener (``listeners.py``), which calls
:meth:`AgentPane.working` and :meth:`AgentPane.title` around the answer. Every call here is
cosmetic: a refusal (missing ``assistant:write``, not an assistant thread) is logged, not raised.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.ports import Core
from bot.settings import Settings

log = logging.getLogger(__name__)

# Delivered only to apps whose manifest still has ``assistant_view``; the shipped manifests use
# agent_view and do not subscribe to them, but the listeners stay for existing installs.
LEGACY_EVENTS = frozenset({"assistant_thread_started", "assistant_thread_context_changed"})
PROMPTS_TITLE = "Try asking"
DEFAULT_PROMPTS = ["Which sources and collections can you answer from?"]
MAX_PROMPTS = 4
PROMPT_TITLE_CHARS = 75
TITLE_CHARS = 100
STATUS = "is looking through your docs..."
LOADING = ["Searching your team's docs…", "Reading the best matches…", "Writing an answer with sources…"]
_TITLED = 2048


def is_messages_tab(event: dict[str, Any]) -> bool:
    return event.get("tab") == "messages"


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class AgentPane:
    def __init__(self, core: Core, settings: Settings) -> None:
        self.core = core
        self.settings = settings
        self._titled: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def register(self, app: App) -> None:
        app.event("app_home_opened", matchers=[is_messages_tab])(self.on_messages_opened)
        app.event("assistant_thread_started")(self.on_thread_started)
        app.event("assistant_thread_context_changed")(self.on_context_changed)

    def prompts(self) -> list[dict[str, str]]:
        try:
            questions = self.core.suggested_prompts(MAX_PROMPTS)
        except Exception:
            log.exception("could not build suggested prompts; using the defaults")
            questions = []
        return [{"title": _short(q, PROMPT_TITLE_CHARS), "message": q}
                for q in (questions or DEFAULT_PROMPTS)[:MAX_PROMPTS]]

    def _suggest(self, client: WebClient, channel: str, thread_ts: str | None) -> None:
        try:
            client.assistant_threads_setSuggestedPrompts(channel_id=channel, thread_ts=thread_ts,
                                                         title=PROMPTS_TITLE, prompts=self.prompts())
        except SlackApiError as exc:
            log.info("suggested prompts not set", extra={"error": exc.response.get("error")})

    def on_messages_opened(self, event: dict[str, Any], client: WebClient) -> None:
        if event.get("channel"):
            self._suggest(client, event["channel"], None)  # agent_view: no thread_ts

    def on_thread_started(self, event: dict[str, Any], client: WebClient) -> None:
        thread = event.get("assistant_thread") or {}
        if thread.get("channel_id") and thread.get("thread_ts"):
            self._suggest(client, thread["channel_id"], thread["thread_ts"])

    def on_context_changed(self) -> None:
        """Acknowledged (bolt would log it as unhandled); lorebot answers from its own knowledge."""

    # --- around an answer in a DM (called by the message listener) ---
    def working(self, client: WebClient, channel: str, thread_ts: str) -> None:
        try:
            client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status=STATUS,
                                               loading_messages=LOADING)
        except SlackApiError as exc:
            log.debug("status not set", extra={"error": exc.response.get("error")})

    def done(self, client: WebClient, channel: str, thread_ts: str) -> None:
        """Clear the status line; Slack clears it by itself only when the reply is in that thread
        (a DM's top-level answer is not)."""
        try:
            client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status="")
        except SlackApiError as exc:
            log.debug("status not cleared", extra={"error": exc.response.get("error")})

    def title(self, client: WebClient, channel: str, thread_ts: str, question: str) -> None:
        """The thread's title from its first question (later ones keep it)."""
        key = (channel, thread_ts)
        with self._lock:
            if key in self._titled:
                return
            self._titled[key] = None
            while len(self._titled) > _TITLED:
                self._titled.popitem(last=False)
        try:
            client.assistant_threads_setTitle(channel_id=channel, thread_ts=thread_ts,
                                              title=_short(question, TITLE_CHARS))
        except SlackApiError as exc:
            log.debug("thread title not set", extra={"error": exc.response.get("error")})
