"""``FakeCore``: the :class:`bot.ports.Core` an adapter test plugs in instead of ``LoreBot``.

No database and no model: answers are canned, votes and commands are recorded in lists.
It applies the real inbound rules (``bot.inbound.decide``), with the two database-backed
facts held in memory (threads lorebot answered in, event ids already claimed), so a
translation or wiring test sees the same verdicts the real core gives.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot import inbound
from bot.settings import Settings
from bot.types import (
    Actor,
    Admission,
    Answer,
    ChannelRef,
    Citation,
    CommandInfo,
    CommandResult,
    HomeData,
    IncomingMessage,
    Reaction,
    Reply,
    TextSink,
)


@dataclass
class Vote:
    user: Actor
    value: int
    signal: str
    interaction_id: uuid.UUID | None
    reply_ref: str | None
    removed: bool = False


@dataclass
class FakeCore:
    settings: Settings
    answer_text: str = "Deploys run from main at 14:00 UTC [1]."
    command_infos: list[CommandInfo] = field(default_factory=list)
    fail_answers: bool = False
    # When set and the adapter passes a sink, ``ask`` streams these pieces to it first (as an
    # LLM provider would), then returns the canned answer with ``streamed`` True.
    stream_pieces: list[str] | None = None
    # Raise after streaming this many pieces (a provider dying mid-answer).
    fail_stream_after: int | None = None
    # Seconds between streamed pieces (a model writing), so a surface's edit pacing shows.
    stream_delay_s: float = 0.0
    # Something with the answering service's ``answer(question, channel=, thread=, asker=)``;
    # when set, ``ask`` hands questions to it instead of the canned answer.
    answerer: Any = None
    asked: list[dict] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    comments: list[tuple[Actor, uuid.UUID, str]] = field(default_factory=list)
    commands_run: list[tuple[str, Actor, ChannelRef]] = field(default_factory=list)
    # reply_ref (platform message id) -> the answer it carries
    replies: dict[str, uuid.UUID] = field(default_factory=dict)
    bot_threads: set[tuple[str, str, str]] = field(default_factory=set)
    claimed: set[tuple[str, str]] = field(default_factory=set)
    # What ``admit`` answers (allow by default) and the calls it saw; what ``home`` returns.
    admission: Admission = field(default_factory=lambda: Admission(allowed=True))
    admitted: list[tuple[Actor, ChannelRef]] = field(default_factory=list)
    home_data: HomeData | None = None
    # Forum channels (platform, channel) whose new posts are answered (``forum enable``).
    forums: set[tuple[str, str]] = field(default_factory=set)
    # kind -> names, for ``complete`` (what the database would list).
    names: dict[str, list[str]] = field(default_factory=dict)
    completed: list[tuple[str, str, Actor | None]] = field(default_factory=list)
    # When set, every message that would be answered gets a "limited" reply with this text
    # instead (what the core's rate limiter returns).
    limited_text: str | None = None
    prompts: list[str] = field(default_factory=list)  # what ``suggested_prompts`` answers
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- inbound ---
    def on_message(self, msg: IncomingMessage) -> Reply | None:
        decision = inbound.decide(msg, inbound.rules_for(self.settings, msg.platform))
        if decision is None:
            return None
        if decision.needs_bot_thread and (msg.platform, msg.channel.id,
                                          msg.thread_id or "") not in self.bot_threads:
            return None
        if not self._claim(msg.platform, msg.event_id):
            return None
        if self.limited_text is not None and decision.reply.kind == "answer":
            return Reply("limited", thread=decision.reply.thread, message=self.limited_text)
        return decision.reply

    def on_forum_post(self, msg: IncomingMessage) -> Reply | None:
        if msg.from_bot or not msg.text.strip() or (msg.platform, msg.channel.id) not in self.forums:
            return None
        if not self._claim(msg.platform, msg.event_id):
            return None
        return Reply("answer", msg.text.strip(), thread=msg.thread_id)

    def complete(self, kind: str, prefix: str, *, actor: Actor | None = None,
                 limit: int = 25) -> list[str]:
        self.completed.append((kind, prefix, actor))
        wanted = prefix.strip().lower()
        return [n for n in sorted(self.names.get(kind, [])) if n.lower().startswith(wanted)][:limit]

    def on_reaction(self, reaction: Reaction) -> bool:
        up, down = inbound.vote_emoji(self.settings, reaction.platform)
        value = inbound.vote_for_emoji(reaction.emoji, up=up, down=down)
        if value is None or not self._claim(reaction.platform, reaction.event_id):
            return False
        if reaction.added:
            return self.vote(user=reaction.user, value=value, signal="reaction",
                             reply_ref=reaction.message_id)
        iid = self.replies.get(reaction.message_id)
        if iid is None:
            return False
        self.votes.append(Vote(reaction.user, value, "reaction", iid, reaction.message_id,
                               removed=True))
        return True

    def claim_event(self, *, platform: str, event_id: str) -> bool:
        return self._claim(platform, event_id)

    def vote_of(self, reaction: Reaction) -> int | None:
        up, down = inbound.vote_emoji(self.settings, reaction.platform)
        return inbound.vote_for_emoji(reaction.emoji, up=up, down=down)

    def _claim(self, platform: str, event_id: str | None) -> bool:
        if not event_id:
            return True
        with self._lock:
            if (platform, event_id) in self.claimed:
                return False
            self.claimed.add((platform, event_id))
            return True

    # --- rate limits and home ---
    def admit(self, *, asker: Actor, channel: ChannelRef) -> Admission:
        with self._lock:
            self.admitted.append((asker, channel))
        return self.admission

    def home(self, viewer: Actor) -> HomeData:
        return self.home_data or HomeData(collections=[], sources=[], default_collection="default")

    # --- asking ---
    def ask(self, question: str, *, channel: ChannelRef, asker: Actor,
            thread: str | None = None, on_text: TextSink | None = None) -> Answer:
        with self._lock:
            self.asked.append({"question": question, "channel": channel, "asker": asker,
                               "thread": thread, "streamed_to": on_text is not None})
        streamed = False
        if on_text is not None and self.stream_pieces:
            for i, piece in enumerate(self.stream_pieces):
                if self.fail_stream_after is not None and i >= self.fail_stream_after:
                    raise RuntimeError("model backend died mid-stream")
                if self.stream_delay_s:
                    time.sleep(self.stream_delay_s)
                on_text(piece)
            streamed = True
        if self.answerer is not None:
            answer = self.answerer.answer(question, channel=channel, thread=thread, asker=asker)
            if thread:
                self.bot_threads.add((channel.platform, channel.id, thread))
            return answer
        if self.fail_answers:
            raise RuntimeError("model backend down")
        if thread:
            self.bot_threads.add((channel.platform, channel.id, thread))
        cite = Citation(marker=1, title="Deploying the API", uri="https://docs.example.org/deploy",
                        heading="Deploying > Production", snippet="Production deploys...",
                        score=0.8, chunk_id=1, document_id=1, collection="default")
        return Answer(text=self.answer_text, citations=[cite], abstained=False,
                      interaction_id=uuid.uuid4(), question=question, streamed=streamed)

    def attach_reply(self, *, interaction_id: uuid.UUID, reply_ref: str) -> None:
        with self._lock:
            self.replies[reply_ref] = interaction_id

    # --- feedback ---
    def vote(self, *, user: Actor, value: int, signal: str, interaction_id: uuid.UUID | None = None,
             reply_ref: str | None = None, comment: str | None = None) -> bool:
        iid = interaction_id or (self.replies.get(reply_ref) if reply_ref else None)
        if iid is None:
            return False
        with self._lock:
            self.votes.append(Vote(user, value, signal, iid, reply_ref))
        return True

    def unvote(self, *, user: Actor, value: int | None = None, interaction_id: uuid.UUID | None = None,
               reply_ref: str | None = None) -> bool:
        """Like the real core: removes the person's live vote (of ``value``, when given)."""
        iid = interaction_id or (self.replies.get(reply_ref) if reply_ref else None)
        with self._lock:
            live = self.live_votes().get((user.key, iid))
            if iid is None or live is None or (value is not None and live.value != value):
                return False
            self.votes.append(Vote(user, live.value, live.signal, iid, reply_ref, removed=True))
        return True

    def live_votes(self) -> dict[tuple[str, uuid.UUID | None], Vote]:
        """(person, answer) -> the vote that stands after every add and removal, in order."""
        live: dict[tuple[str, uuid.UUID | None], Vote] = {}
        for v in self.votes:
            if v.removed:
                live.pop((v.user.key, v.interaction_id), None)
            else:
                live[(v.user.key, v.interaction_id)] = v
        return live

    def suggested_prompts(self, limit: int = 4) -> list[str]:
        return list(self.settings.slack_suggested_prompts or self.prompts)[:limit]

    def comment(self, *, user: Actor, interaction_id: uuid.UUID, text: str) -> bool:
        self.comments.append((user, interaction_id, text))
        return True

    # --- admin ---
    def command(self, text: str, *, actor: Actor, channel: ChannelRef,
                notify: Callable[[str], None] | None = None) -> CommandResult:
        self.commands_run.append((text, actor, channel))
        return CommandResult(text=f"ran {text}")

    def commands(self) -> list[CommandInfo]:
        return list(self.command_infos)


def registry_command_infos() -> list[CommandInfo]:
    """Every admin command of the real registry, as ``LoreBot.commands`` lists them: what a
    FakeCore should offer when a test checks the chat surfaces against the real commands."""
    from bot.admin.router import build_registry

    return [CommandInfo(name=s.name, usage=s.usage, help=s.help, completes=s.completes)
            for s in build_registry().all()]
