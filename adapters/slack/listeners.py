"""What lorebot does with each Slack event, slash command and button.

Every listener translates the payload (``translate``), calls the core (a :class:`bot.ports.Core`:
``on_message`` decides whether a message is answered, ``on_reaction`` whether a reaction is a
vote), and posts what ``render`` produced. Listeners never raise into bolt: a failure is logged
with a reference id and, where a person is waiting, answered with a short apology quoting that id.
"""

from __future__ import annotations

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
from slack_sdk.errors import SlackApiError, SlackRequestError

from adapters.slack import render, translate
from adapters.slack.admins import PlatformAdmins
from adapters.slack.agent import AgentPane
from adapters.slack.streaming import AnswerStream
from bot.hygiene import clean_input
from bot.logging import bind_request_id
from bot.ports import Core
from bot.settings import Settings
from bot.types import Actor, Answer, ChannelRef, IncomingMessage, Reply

log = logging.getLogger(__name__)

USAGE = (
    "Ask me anything about your team's docs: mention me (`@lorebot how do I deploy?`), "
    "send me a direct message, or use `/lore your question`. "
    "Admins: `/lore admin help` lists the admin commands."
)
APOLOGY = ("Sorry, something went wrong while answering. Please try again in a moment; "
           "if it keeps happening, give an admin this reference: `{ref}`.")
LIMITED = "You're asking faster than this workspace allows; please try again in a minute."
TRUNCATED = "Your message was long, so I used only its first {n:,} characters."
_SHARE_CACHE = 512
ANSWER_WORKERS = 8


def new_reference() -> str:
    return uuid.uuid4().hex[:8]


class SlackListeners:
    """The listeners of one bolt ``App``; holds the core and the little state Slack needs."""

    def __init__(self, core: Core, settings: Settings, *, inline: bool = False,
                 workers: int = ANSWER_WORKERS) -> None:
        self.core = core
        self.settings = settings
        # Answers take seconds; run them on a pool of their own so bolt's listener threads stay
        # free to acknowledge the next command within Slack's 3 s (``inline`` is for tests).
        self._inline = inline
        self._pool = None if inline else ThreadPoolExecutor(max_workers=workers,
                                                            thread_name_prefix="lorebot-slack")
        self.admins = PlatformAdmins()
        self.agent = AgentPane(core, settings)
        # Ephemeral slash answers are not in any channel; keep them so "Share" can post them.
        self._shareable: OrderedDict[str, Answer] = OrderedDict()
        self._share_lock = threading.Lock()

    def register(self, app: App) -> None:
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.event("reaction_added")(self.on_reaction)
        app.event("reaction_removed")(self.on_reaction)
        app.command("/lore")(self.on_slash)
        app.action(render.VOTE_UP)(self.on_vote_button)
        app.action(render.VOTE_DOWN)(self.on_vote_button)
        app.action(render.SHARE)(self.on_share)
        app.action(render.NATIVE_FEEDBACK)(self.on_native_feedback)
        self.agent.register(app)
        app.view(render.FEEDBACK_MODAL)(self.on_feedback_modal)
        app.error(self.on_error)

    # ------------------------------------------------------------------ helpers

    def defer(self, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Run slow work after the acknowledgement; failures are logged, never lost silently."""
        if self._pool is None:
            fn(*args, **kwargs)
            return

        def run() -> None:
            try:
                fn(*args, **kwargs)
            except Exception:
                log.exception("Slack background work failed")

        self._pool.submit(run)

    def close(self, wait: bool = True) -> None:
        """Finish (or drop, ``wait=False``) the answers in progress; for shutdown."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=not wait)

    def _react(self, client: WebClient, add: bool, channel: str, ts: str) -> None:
        name = self.settings.slack_seen_emoji
        if not name:
            return
        try:
            if add:
                client.reactions_add(channel=channel, timestamp=ts, name=name)
            else:
                client.reactions_remove(channel=channel, timestamp=ts, name=name)
        except SlackApiError as exc:  # missing scope, already reacted: cosmetic only
            log.debug("seen reaction not changed", extra={"error": exc.response.get("error")})

    def _post(self, client: WebClient, channel: str, thread_ts: str | None,
              messages: list[render.SlackMessage]) -> str | None:
        """Post each message; the ts of the first (the one reactions are counted on)."""
        first: str | None = None
        for message in messages:
            resp = client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message.text,
                                           blocks=message.blocks, unfurl_links=False, unfurl_media=False)
            first = first or resp.get("ts")
        return first

    def _post_text(self, client: WebClient, channel: str, thread_ts: str | None, text: str) -> None:
        try:
            self._post(client, channel, thread_ts, render.render_text(text))
        except SlackApiError as exc:
            log.error("could not post a reply to Slack", extra={"error": exc.response.get("error")})

    def _attach(self, answer: Answer, ts: str | None) -> None:
        if answer.interaction_id is None or not ts:
            return
        try:
            self.core.attach_reply(interaction_id=answer.interaction_id, reply_ref=ts)
        except Exception:
            log.exception("could not remember the answer's message; reactions on it will not count")

    def _remember_shareable(self, answer: Answer) -> None:
        if answer.interaction_id is None:
            return
        with self._share_lock:
            self._shareable[str(answer.interaction_id)] = answer
            while len(self._shareable) > _SHARE_CACHE:
                self._shareable.popitem(last=False)

    def _ask(self, question: str, *, channel: ChannelRef, asker: Actor, thread: str | None,
             truncated: bool, on_text: Any = None) -> Answer:
        if on_text is None:
            answer = self.core.ask(question, channel=channel, asker=asker, thread=thread)
        else:
            answer = self.core.ask(question, channel=channel, asker=asker, thread=thread,
                                   on_text=on_text)
        if truncated:
            note = TRUNCATED.format(n=translate.MAX_QUESTION_CHARS)
            answer.notice = f"{answer.notice} {note}" if answer.notice else note
        return answer

    # ------------------------------------------------------------------ asking

    def _render(self, answer: Answer) -> list[render.SlackMessage]:
        return render.render_answer(answer, markdown=self.settings.slack_markdown_blocks,
                                    native_feedback=self.settings.slack_native_feedback)

    def _stream_for(self, client: WebClient, msg: IncomingMessage, reply: Reply,
                    team_id: str | None) -> AnswerStream | None:
        if not self.settings.slack_stream_answers:
            return None
        # A stream is always a reply in a thread; a DM's top-level question starts one.
        in_channel = not msg.channel.is_dm
        return AnswerStream(client, channel=msg.channel.id, thread_ts=reply.thread or msg.message_id,
                            recipient_team_id=team_id if in_channel else None,
                            recipient_user_id=msg.user.user_id if in_channel else None)

    def answer_message(self, client: WebClient, msg: IncomingMessage, reply: Reply,
                       team_id: str | None = None) -> None:
        """Send the core's ``reply`` to ``msg`` in ``reply.thread`` (None: top level of the DM).

        An LLM answer is streamed into the thread as it is written (started on its first
        delta) and finished with its sources and feedback; an extractive one is posted whole.
        In a DM (the agent pane) the thread gets a title and a status line while answering.
        """
        channel = msg.channel.id
        question, truncated = translate.limit_question(reply.question)
        if reply.kind == "usage" or not question:
            self._post_text(client, channel, reply.thread, USAGE)
            return
        if reply.kind == "limited":  # never a silent drop: say when to try again
            self._post_text(client, channel, reply.thread, reply.message or LIMITED)
            return
        if reply.wait_s > 0:  # queued by the channel's limit: say so, then answer in turn
            if reply.message:
                self._post_text(client, channel, reply.thread, reply.message)
            time.sleep(reply.wait_s)
        if truncated:
            log.info("long Slack question truncated", extra={"chars": len(reply.question)})
        ref = new_reference()
        with bind_request_id(ref):
            self._react(client, True, channel, msg.message_id)
            if msg.channel.is_dm:
                pane_thread = reply.thread or msg.message_id
                self.agent.title(client, channel, pane_thread, question)
                self.agent.working(client, channel, pane_thread)
            stream = self._stream_for(client, msg, reply, team_id)
            try:
                try:
                    answer = self._ask(question, channel=msg.channel, asker=msg.user,
                                       thread=reply.thread, truncated=truncated,
                                       on_text=stream.sink if stream else None)
                except Exception:
                    log.exception("answering a Slack question failed", extra={"reference": ref})
                    # A started stream ends as the apology, never as a half answer.
                    if not (stream and stream.fail(APOLOGY.format(ref=ref))):
                        self._post_text(client, channel, reply.thread, APOLOGY.format(ref=ref))
                    return
                try:
                    if stream is not None and stream.started:
                        ts = stream.finish(answer, self._render(answer),
                                           native_feedback=self.settings.slack_native_feedback)
                    else:
                        ts = self._post(client, channel, reply.thread, self._render(answer))
                except (SlackApiError, SlackRequestError) as exc:
                    error = exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
                    log.error("could not post the answer to Slack", extra={"error": error, "reference": ref})
                    # Blocks refused (or a part of a long answer): still tell the person, in
                    # place of the streamed draft when there is one.
                    if not (stream and stream.fail(APOLOGY.format(ref=ref))):
                        self._post_text(client, channel, reply.thread, APOLOGY.format(ref=ref))
                    return
                self._attach(answer, ts)
            finally:
                self._react(client, False, channel, msg.message_id)
                if msg.channel.is_dm:
                    self.agent.done(client, channel, pane_thread)

    def _incoming(self, event: dict[str, Any], body: dict[str, Any],
                  context: BoltContext) -> IncomingMessage | None:
        if translate.is_own(event, bot_user_id=context.bot_user_id, bot_id=context.bot_id):
            return None
        return translate.message_from_event(event, bot_user_id=context.bot_user_id,
                                            bot_id=context.bot_id, event_id=body.get("event_id"))

    def on_mention(self, event: dict[str, Any], body: dict[str, Any], context: BoltContext,
                   client: WebClient) -> None:
        self._on_incoming(event, body, context, client)

    def on_message(self, event: dict[str, Any], body: dict[str, Any], context: BoltContext,
                   client: WebClient) -> None:
        self._on_incoming(event, body, context, client)

    def _on_incoming(self, event: dict[str, Any], body: dict[str, Any], context: BoltContext,
                     client: WebClient) -> None:
        """Both ``app_mention`` and ``message``: the core decides which one to answer."""
        msg = self._incoming(event, body, context)
        if msg is None:
            return
        reply = self.core.on_message(msg)
        if reply is not None:
            team_id = context.team_id or body.get("team_id")
            self.defer(self.answer_message, client, msg, reply, team_id)

    # ------------------------------------------------------------------ feedback

    def on_reaction(self, event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        reaction = translate.reaction_from_event(event, event_id=body.get("event_id"))
        if reaction is None or reaction.user.user_id == context.bot_user_id:
            return
        # Reactions on other people's messages are never votes; skip the database lookup.
        if event.get("item_user") and event.get("item_user") != context.bot_user_id:
            return
        self.core.on_reaction(reaction)

    def on_vote_button(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                       respond: Respond) -> None:
        ack()
        press = translate.button_press(body, action)
        if press.interaction_id is None:
            log.warning("feedback button without a valid answer id ignored")
            return
        value = 1 if press.action_id == render.VOTE_UP else -1
        try:
            recorded = self.core.vote(user=press.user, value=value, signal="button",
                                      interaction_id=press.interaction_id)
        except Exception:  # e.g. an answer deleted by retention, or a forged id
            log.exception("could not record a button vote")
            recorded = False
        if not recorded:
            _safe_respond(respond, "Sorry, I could not record that vote: the answer is no longer on record.")
            return
        if value < 0 and press.trigger_id:
            try:
                client.views_open(trigger_id=press.trigger_id,
                                  view=render.feedback_modal(str(press.interaction_id)))
                return
            except SlackApiError as exc:
                log.warning("could not open the feedback modal", extra={"error": exc.response.get("error")})
        _safe_respond(respond, "Thanks, your feedback was recorded.")

    def on_native_feedback(self, ack: Ack, body: dict[str, Any], action: dict[str, Any],
                           client: WebClient) -> None:
        """Slack's own 👍 / 👎: a vote like the classic buttons (one per person per answer);
        pressing the same one again takes the vote back, as removing a reaction does."""
        ack()
        value, iid = translate.feedback_value(action.get("value"))
        user = translate.actor((body.get("user") or {}).get("id", ""))
        if value is None or iid is None or not user.user_id:
            log.warning("native feedback press without a valid answer id ignored")
            return
        try:
            if self.core.unvote(user=user, value=value, interaction_id=iid):
                return  # the second press of the same button
            recorded = self.core.vote(user=user, value=value, signal="button", interaction_id=iid)
        except Exception:  # an answer deleted by retention, or a forged id
            log.exception("could not record a native feedback vote")
            return
        trigger = body.get("trigger_id")
        if recorded and value < 0 and trigger:
            try:
                client.views_open(trigger_id=trigger, view=render.feedback_modal(str(iid)))
            except SlackApiError as exc:
                log.warning("could not open the feedback modal", extra={"error": exc.response.get("error")})

    def on_feedback_modal(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        iid = translate.parse_interaction_id(view.get("private_metadata"))
        value = (((view.get("state") or {}).get("values") or {}).get("what") or {}).get("text") or {}
        text = clean_input(value.get("value") or "").strip()
        user = translate.actor((body.get("user") or {}).get("id", ""))
        if iid is None or not text:
            return
        if not self.core.comment(user=user, interaction_id=iid, text=text):
            log.info("feedback comment without a vote ignored")

    # ------------------------------------------------------------------ /lore

    def on_slash(self, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        cmd = translate.slash_command(body)
        if cmd.kind == "help":
            ack(text=render.to_mrkdwn(USAGE))
            return
        if cmd.kind == "admin":
            ack()
            self.defer(self._admin, cmd, respond, client)
            return
        question, truncated = translate.limit_question(cmd.text)
        admission = self.core.admit(asker=cmd.user, channel=cmd.channel)
        if not admission.allowed:
            ack(response_type="ephemeral", text=render.to_mrkdwn(admission.message or LIMITED))
            return
        # Slack drops a command not acknowledged within 3 s: ack first, answer after.
        looking = f"Looking up: _{render.to_mrkdwn(question[:200])}_"
        if admission.queued and admission.message:
            looking = f"{render.to_mrkdwn(admission.message)}\n{looking}"
        ack(response_type="ephemeral", text=looking)
        self.defer(self._answer_slash, cmd, question, truncated, respond, client, admission.wait_s)

    def _answer_slash(self, cmd: translate.SlashCommand, question: str, truncated: bool, respond: Respond,
                      client: WebClient, wait_s: float = 0.0) -> None:
        if wait_s > 0:
            time.sleep(wait_s)
        ref = new_reference()
        with bind_request_id(ref):
            try:
                answer = self._ask(question, channel=cmd.channel, asker=cmd.user, thread=None,
                                   truncated=truncated)
            except Exception:
                log.exception("answering a /lore question failed", extra={"reference": ref})
                _safe_respond(respond, APOLOGY.format(ref=ref))
                return
            if self.settings.slack_slash_ephemeral:
                self._remember_shareable(answer)
                for message in render.render_answer(answer, share=True,
                                                    max_messages=render.RESPONSE_URL_MESSAGES):
                    respond(text=message.text, blocks=message.blocks, response_type="ephemeral",
                            replace_original=False)
                return
            footer = f"Asked by <@{cmd.user.user_id}> with /lore"
            messages = render.render_answer(answer, footer=footer, max_messages=render.RESPONSE_URL_MESSAGES,
                                            markdown=self.settings.slack_markdown_blocks,
                                            native_feedback=self.settings.slack_native_feedback)
            try:
                self._attach(answer, self._post(client, cmd.channel.id, None, messages))
            except SlackApiError:
                # Not a member of the channel: the response_url can still post there.
                for message in messages:
                    respond(text=message.text, blocks=message.blocks, response_type="in_channel",
                            replace_original=False)

    def on_share(self, ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                 respond: Respond) -> None:
        ack()
        press = translate.button_press(body, action)
        iid, question = translate.parse_share_value(action.get("value"))
        if press.channel is None:
            return
        with self._share_lock:
            answer = self._shareable.get(str(iid))
        if answer is None and question:
            # Another replica (or a restart) holds the original: answer again, in the open.
            try:
                answer = self.core.ask(question, channel=press.channel, asker=press.user, thread=None)
            except Exception:
                ref = new_reference()
                log.exception("answering again to share failed", extra={"reference": ref})
                _safe_respond(respond, APOLOGY.format(ref=ref))
                return
        if answer is None:
            _safe_respond(respond, "This answer can no longer be shared; ask again with @lorebot in "
                                   "the channel.")
            return
        messages = render.render_answer(answer, footer=f"Shared by <@{press.user.user_id}>",
                                        markdown=self.settings.slack_markdown_blocks,
                                        native_feedback=self.settings.slack_native_feedback)
        try:
            ts = self._post(client, press.channel.id, None, messages)
        except SlackApiError as exc:
            _safe_respond(respond, "I could not post in this channel "
                                   f"({exc.response.get('error')}); invite me with `/invite @lorebot`.")
            return
        self._attach(answer, ts)
        try:
            respond(delete_original=True)
        except Exception:
            log.debug("could not remove the ephemeral answer after sharing")

    def _admin(self, cmd: translate.SlashCommand, respond: Respond, client: WebClient) -> None:
        is_admin = (self.settings.trust_platform_admins
                    and self.admins.is_admin(client, cmd.user.user_id))
        actor = translate.actor(cmd.user.user_id, platform_admin=is_admin)
        ref = new_reference()
        with bind_request_id(ref):
            try:
                result = self.core.command(cmd.text or "help", actor=actor, channel=cmd.channel,
                                           notify=lambda text: _safe_respond(respond, text))
            except ImportError as exc:
                log.error("admin command router unavailable", extra={"error": str(exc)})
                _safe_respond(respond, "Admin commands are not available in this installation "
                                       f"(`{exc.name or exc}` could not be loaded); "
                                       "check the lorebot version.")
                return
            except Exception:
                log.exception("admin command failed", extra={"reference": ref})
                _safe_respond(respond, APOLOGY.format(ref=ref))
                return
        for message in render.render_text(result.text):
            respond(text=message.text, blocks=message.blocks,
                    response_type="ephemeral" if result.private else "in_channel", replace_original=False)

    # ------------------------------------------------------------------ errors

    def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        log.error("Slack listener failed", exc_info=error,
                  extra={"payload_type": body.get("type") if isinstance(body, dict) else None})


def _safe_respond(respond: Respond | Callable[..., Any], text: str) -> None:
    try:
        respond(text=text, response_type="ephemeral", replace_original=False)
    except Exception:
        log.warning("could not send an ephemeral reply to Slack")
