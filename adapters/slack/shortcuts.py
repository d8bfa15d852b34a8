"""The message shortcut "Ask lorebot about this": answer a message's text in its thread.

The answer is ephemeral (only the person who used the shortcut sees it, posted with
``chat.postEphemeral`` in the message's thread), with the usual 👍 / 👎 and a "Share to
channel" button that posts it in the thread for everyone. The question goes through the
rate limits (``core.admit``) and the core's ordinary ask path.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack import render, translate
from adapters.slack.workspace import slack_channel_id, workspace_channel
from bot.logging import bind_request_id
from bot.ports import Core
from bot.settings import Settings
from bot.types import Answer

log = logging.getLogger(__name__)

ASK_ABOUT_THIS = "lorebot_ask_about_this"  # the callback_id in manifest.yml
SHORTCUT_SHARE = "lorebot_shortcut_share"
NO_TEXT = "That message has no text I can answer about."
APOLOGY = ("Sorry, something went wrong while answering. Please try again in a moment; "
           "if it keeps happening, give an admin this reference: `{ref}`.")
_CACHE = 256
WORKERS = 4


def _share_value(answer: Answer, channel: str, thread: str) -> str:
    """The share button's value: enough to post (or answer again) in the thread, < 2,000 chars."""
    data = {"id": str(answer.interaction_id), "c": channel, "t": thread, "q": ""}
    room = 1900 - len(json.dumps(data))
    data["q"] = answer.question[: max(0, room // 2)]  # JSON escaping can double a character
    return json.dumps(data, ensure_ascii=False)


def with_thread_share(messages: list[render.SlackMessage], value: str) -> list[render.SlackMessage]:
    """``render``'s share button, re-pointed at this module's handler (it posts in the thread)."""
    out = []
    for message in messages:
        blocks = json.loads(json.dumps(message.blocks))
        for block in blocks:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == render.SHARE:
                    element["action_id"], element["value"] = SHORTCUT_SHARE, value
                    element["text"]["text"] = "Share in thread"
        out.append(render.SlackMessage(text=message.text, blocks=blocks))
    return out


class MessageShortcut:
    def __init__(self, core: Core, settings: Settings, *, per_workspace: bool,
                 inline: bool = False) -> None:
        self.core = core
        self.settings = settings
        self.per_workspace = per_workspace
        # Answering (and a queue's wait) takes seconds: not on bolt's own listener threads.
        self._pool = None if inline else ThreadPoolExecutor(WORKERS, thread_name_prefix="lorebot-shortcut")
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def register(self, app: App) -> None:
        app.message_shortcut(ASK_ABOUT_THIS)(self.on_shortcut)
        app.action(SHORTCUT_SHARE)(self.on_share)

    def close(self, wait: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=not wait)

    def _defer(self, fn: Callable[[], None]) -> None:
        if self._pool is None:
            fn()
            return

        def run() -> None:
            try:
                fn()
            except Exception:
                log.exception("message shortcut work failed")

        self._pool.submit(run)

    def on_shortcut(self, ack: Ack, shortcut: dict[str, Any], client: WebClient,
                    context: BoltContext) -> None:
        ack()
        message = shortcut.get("message") or {}
        channel_id = (shortcut.get("channel") or {}).get("id")
        user_id = (shortcut.get("user") or {}).get("id")
        ts = message.get("ts") or shortcut.get("message_ts")
        if not channel_id or not user_id or not ts:
            log.warning("message shortcut without channel, user or message ignored")
            return
        thread = message.get("thread_ts") or ts
        question, truncated = translate.limit_question(
            translate.clean_text(message.get("text") or "", context.bot_user_id))

        def tell(text: str) -> None:
            self._ephemeral(client, channel_id, user_id, thread, render.render_text(text))

        if not question:
            tell(NO_TEXT)
            return
        channel = workspace_channel(channel_id, context.team_id, per_workspace=self.per_workspace)
        asker = translate.actor(user_id)
        decision = self.core.admit(asker=asker, channel=channel)
        if not decision.allowed:
            tell(decision.message or "Please try again in a minute.")
            return
        if decision.queued and decision.message:
            tell(decision.message)
        self._defer(lambda: self._answer(client, question, truncated, channel, asker, channel_id,
                                         user_id, thread, decision.wait_s))

    def _answer(self, client: WebClient, question: str, truncated: bool, channel: Any, asker: Any,
                channel_id: str, user_id: str, thread: str, wait_s: float) -> None:
        if wait_s > 0:
            time.sleep(wait_s)
        ref = uuid.uuid4().hex[:8]
        with bind_request_id(ref):
            try:
                # thread=None, as for /lore: an interaction recorded under the thread would make
                # the thread lorebot's, and every later reply in it would be answered in public
                # although this answer was private.
                answer = self.core.ask(question, channel=channel, asker=asker, thread=None)
            except Exception:
                log.exception("answering a message shortcut failed", extra={"reference": ref})
                self._ephemeral(client, channel_id, user_id, thread,
                                render.render_text(APOLOGY.format(ref=ref)))
                return
            if truncated:
                note = ("The message was long, so I used only its first "
                        f"{translate.MAX_QUESTION_CHARS:,} characters.")
                answer.notice = f"{answer.notice} {note}" if answer.notice else note
            if answer.interaction_id is not None:
                with self._lock:
                    self._answers[str(answer.interaction_id)] = answer
                    while len(self._answers) > _CACHE:
                        self._answers.popitem(last=False)
            messages = render.render_answer(answer, share=True, max_messages=render.RESPONSE_URL_MESSAGES)
            messages = with_thread_share(messages, _share_value(answer, channel_id, thread))
            if not self._ephemeral(client, channel_id, user_id, thread, messages):
                self._ephemeral(client, channel_id, user_id, thread,
                                render.render_text(APOLOGY.format(ref=ref)))

    @staticmethod
    def _ephemeral(client: WebClient, channel: str, user: str, thread: str,
                   messages: list[render.SlackMessage]) -> bool:
        try:
            for message in messages:
                client.chat_postEphemeral(channel=slack_channel_id(channel), user=user, thread_ts=thread,
                                          text=message.text, blocks=message.blocks)
            return True
        except SlackApiError as exc:
            log.error("could not post the shortcut's answer", extra={"error": exc.response.get("error")})
            return False

    def on_share(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                 respond: Respond, context: BoltContext) -> None:
        ack()
        try:
            data = json.loads(action.get("value") or "")
            channel_id, thread = str(data["c"]), str(data["t"])
        except (ValueError, KeyError, TypeError):
            log.warning("shortcut share button with a malformed value ignored")
            return
        user_id = (body.get("user") or {}).get("id") or ""
        with self._lock:
            answer = self._answers.get(str(data.get("id")))
        if answer is None and data.get("q"):
            # Another replica (or a restart) answered: answer again, now in the open.
            channel = workspace_channel(channel_id, context.team_id, per_workspace=self.per_workspace)
            try:
                answer = self.core.ask(str(data["q"]), channel=channel, asker=translate.actor(user_id),
                                       thread=None)
            except Exception:
                log.exception("answering again to share failed")
                respond(text="Sorry, I could not share that answer; try the shortcut again.",
                        response_type="ephemeral", replace_original=False)
                return
        if answer is None:
            respond(text="This answer can no longer be shared; use the shortcut again.",
                    response_type="ephemeral", replace_original=False)
            return
        messages = render.render_answer(answer, footer=f"Shared by <@{user_id}>")
        try:
            first = None
            for message in messages:
                resp = client.chat_postMessage(channel=channel_id, thread_ts=thread, text=message.text,
                                               blocks=message.blocks, unfurl_links=False, unfurl_media=False)
                first = first or resp.get("ts")
        except SlackApiError as exc:
            respond(text=f"I could not post in this channel ({exc.response.get('error')}); "
                         "invite me with `/invite @lorebot`.", response_type="ephemeral",
                    replace_original=False)
            return
        if answer.interaction_id is not None and first:
            try:
                self.core.attach_reply(interaction_id=answer.interaction_id, reply_ref=first)
            except Exception:
                log.exception("could not remember the shared answer's message")
        try:
            respond(delete_original=True)
        except Exception:
            log.debug("could not remove the ephemeral answer after sharing")
