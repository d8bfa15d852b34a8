"""``LoreBot``: the one object adapters talk to.

Adapters translate platform events into these plain calls and render what comes back; they
never touch the database, retrieval or models directly. Every method is synchronous and
thread-safe; async adapters call them through ``asyncio.to_thread`` (see the ``a*`` variants).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Callable
from typing import Protocol

from bot import inbound
from bot.db import events as events_db
from bot.db import feedback as feedback_db
from bot.db import interactions as interactions_db
from bot.db.session import Database
from bot.identity import user_hash
from bot.ratelimit import RateLimiter
from bot.settings import Settings
from bot.types import (
    Actor,
    Admission,
    Answer,
    ChannelRef,
    CommandInfo,
    CommandResult,
    HomeData,
    IncomingMessage,
    Reaction,
    Reply,
    TextSink,
)

log = logging.getLogger(__name__)


class Answerer(Protocol):
    def answer(
        self, question: str, *, channel: ChannelRef, thread: str | None, asker: Actor,
        on_text: TextSink | None = None,
    ) -> Answer: ...


class Router(Protocol):
    def handle(
        self, text: str, *, actor: Actor, channel: ChannelRef,
        notify: Callable[[str], None] | None = None,
    ) -> CommandResult: ...


class LoreBot:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        answerer: Answerer | None = None,
        router: Router | None = None,
        on_sources_changed: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self._answerer = answerer
        self._router = router
        # Wired by the composer (``lorebot serve``: the scheduler rebuilds its jobs).
        self._on_sources_changed = on_sources_changed
        self._rate_limiter: RateLimiter | None = None

    @classmethod
    def from_settings(cls, settings: Settings, db: Database | None = None) -> LoreBot:
        from bot.runtime import open_for_serving

        return cls(settings=settings, db=db or open_for_serving(settings))

    def sources_changed(self) -> None:
        """A source was added or removed: tell whoever the composer wired (if anyone)."""
        if self._on_sources_changed is not None:
            self._on_sources_changed()

    # --- collaborators, built on first use so an adapter test can inject its own ---
    @property
    def answerer(self) -> Answerer:
        if self._answerer is None:
            from bot.answering.service import AnsweringService

            self._answerer = AnsweringService.from_settings(self.settings, self.db)
        return self._answerer

    @property
    def router(self) -> Router:
        if self._router is None:
            from bot.admin.router import CommandRouter

            self._router = CommandRouter(settings=self.settings, db=self.db,
                                         on_sources_changed=self.sources_changed)
        return self._router

    # --- inbound: the one policy for every platform ---
    def on_message(self, msg: IncomingMessage) -> Reply | None:
        """Is ``msg`` for lorebot (a DM, a mention, a follow-up in a thread lorebot answered),
        and not a thank-you or a repeat delivery? The :class:`Reply` to send, or None.

        Claims ``msg.event_id`` exactly once across replicas, so call it once per delivery.
        The adapter then answers ``reply.question`` with :meth:`ask` (after its "working on it"
        cue) in ``reply.thread``.
        """
        decision = inbound.decide(msg, inbound.rules_for(self.settings, msg.platform))
        if decision is None:
            return None
        if decision.needs_bot_thread and not self.is_bot_thread(
            platform=msg.platform, channel=msg.channel.id, thread=msg.thread_id or ""
        ):
            return None
        if not self._first_delivery(msg.platform, msg.event_id):
            return None
        return self._admitted(decision.reply, msg)

    def _admitted(self, reply: Reply, msg: IncomingMessage) -> Reply:
        """``reply`` under the rate limits: refused ("limited", with the line to send) or
        queued (``wait_s`` and the "you're in a queue" line) or as it is."""
        if reply.kind != "answer":
            return reply
        admission = self.admit(asker=msg.user, channel=msg.channel)
        if not admission.allowed:
            return dataclasses.replace(reply, kind="limited", message=admission.message)
        if admission.queued:
            return dataclasses.replace(reply, message=admission.message, wait_s=admission.wait_s)
        return reply

    def on_forum_post(self, msg: IncomingMessage) -> Reply | None:
        """A new post in a forum channel (``msg.channel`` the forum, ``msg.thread_id`` the
        post's thread, ``msg.text`` its title and first message): answered in its thread when
        an admin enabled the forum (``forum enable``), once across replicas; else None."""
        if msg.from_bot or not msg.text.strip() or not self.is_forum(platform=msg.platform,
                                                                     channel=msg.channel.id):
            return None
        if not self._first_delivery(msg.platform, msg.event_id):
            return None
        return self._admitted(Reply("answer", msg.text.strip(), thread=msg.thread_id), msg)

    def is_forum(self, *, platform: str, channel: str) -> bool:
        from bot.db import scopes as scopes_db

        with self.db.session() as s:
            return scopes_db.is_forum_enabled(session=s, platform=platform, channel=channel)

    async def aon_message(self, msg: IncomingMessage) -> Reply | None:
        return await asyncio.to_thread(self.on_message, msg)

    def on_reaction(self, reaction: Reaction) -> bool:
        """Count a vote emoji added to (or taken off) a lorebot answer; True if recorded.

        Which emoji are votes comes from settings (``*_UPVOTE_EMOJI`` / ``*_DOWNVOTE_EMOJI``);
        any other emoji, a message that is not an answer, or a retried delivery is ignored.
        """
        up, down = inbound.vote_emoji(self.settings, reaction.platform)
        value = inbound.vote_for_emoji(reaction.emoji, up=up, down=down)
        if value is None or not self._first_delivery(reaction.platform, reaction.event_id):
            return False
        iid = self._answer_id(reaction.user, None, reaction.message_id)
        if iid is None:
            log.info("reaction on a message that is not a lorebot answer ignored")
            return False
        who = user_hash(self.settings, reaction.user)
        with self.db.session() as s:
            # The person's vote emoji on the answer are on record, so the vote after any add
            # or remove is what the remaining ones say (the newest), on every replica.
            if reaction.added:
                feedback_db.add_reaction_vote(session=s, interaction_id=iid, user_hash=who,
                                              emoji=reaction.emoji, value=value)
                feedback_db.upsert_vote(session=s, interaction_id=iid, user_hash=who, value=value,
                                        signal="reaction")
                return True
            remaining = feedback_db.remove_reaction_vote(session=s, interaction_id=iid,
                                                         user_hash=who, emoji=reaction.emoji)
            if remaining is None:
                # No vote emoji left (or reactions from before they were recorded): drop the
                # vote if it is this one; a button vote the other way stays.
                return feedback_db.remove_vote(session=s, interaction_id=iid, user_hash=who,
                                               value=value)
            feedback_db.upsert_vote(session=s, interaction_id=iid, user_hash=who, value=remaining,
                                    signal="reaction")
            return True

    def vote_of(self, reaction: Reaction) -> int | None:
        up, down = inbound.vote_emoji(self.settings, reaction.platform)
        return inbound.vote_for_emoji(reaction.emoji, up=up, down=down)

    async def aon_reaction(self, reaction: Reaction) -> bool:
        return await asyncio.to_thread(self.on_reaction, reaction)

    def _first_delivery(self, platform: str, event_id: str | None) -> bool:
        """Claim the delivery across replicas; a retry gets False."""
        if not event_id:
            return True
        try:
            first = self.claim_event(platform=platform, event_id=event_id)
        except Exception:
            # Without the database we cannot dedupe; a possible duplicate beats silence.
            log.exception("could not claim an event id; handling it anyway",
                          extra={"platform": platform})
            return True
        if not first:
            log.info("event already handled (a retry); skipped",
                     extra={"platform": platform, "event_id": event_id})
        return first

    # --- rate limits (USER_/CHANNEL_QUESTIONS_PER_MINUTE), one limiter for every surface ---
    @property
    def rate_limiter(self) -> RateLimiter:
        if self._rate_limiter is None:
            # Windows in Postgres: every replica counts against one limit.
            self._rate_limiter = RateLimiter.from_settings(self.settings, self.db)
        return self._rate_limiter

    def admit(self, *, asker: Actor, channel: ChannelRef) -> Admission:
        """May ``asker`` ask in ``channel`` now? Counts the question when admitted.

        ``on_message`` applies it itself; surfaces that ask directly (slash commands, message
        shortcuts, context menus) call it before ``ask`` and show its message when there is one.
        """
        return self.rate_limiter.check(user=asker.key, channel=f"{channel.platform}:{channel.id}")

    def home(self, viewer: Actor) -> HomeData:
        """What the app's home shows ``viewer`` (admins also see what needs them)."""
        from bot.home import home_data

        return home_data(db=self.db, settings=self.settings, viewer=viewer)

    def suggested_prompts(self, limit: int = 4) -> list[str]:
        """Questions to suggest to someone about to ask: the configured ones
        (``SLACK_SUGGESTED_PROMPTS``), else the most-asked answered questions of the month."""
        configured = list(self.settings.slack_suggested_prompts)
        if configured:
            return configured[:limit]
        with self.db.session() as s:
            return interactions_db.popular_questions(session=s, limit=limit)

    # --- asking ---
    def ask(
        self, question: str, *, channel: ChannelRef, asker: Actor, thread: str | None = None,
        on_text: TextSink | None = None,
    ) -> Answer:
        """The grounded answer. ``on_text`` gets the text as a model writes it (see
        ``AnsweringService.answer``); it is called on the answering thread."""
        if on_text is None:  # answerers written before streaming take no such argument
            return self.answerer.answer(question, channel=channel, thread=thread, asker=asker)
        return self.answerer.answer(question, channel=channel, thread=thread, asker=asker,
                                    on_text=on_text)

    async def aask(
        self, question: str, *, channel: ChannelRef, asker: Actor, thread: str | None = None,
        on_text: TextSink | None = None,
    ) -> Answer:
        return await asyncio.to_thread(
            self.ask, question, channel=channel, asker=asker, thread=thread, on_text=on_text
        )

    def attach_reply(self, *, interaction_id: uuid.UUID, reply_ref: str) -> None:
        """Remember which platform message carries the answer, so reactions find it."""
        with self.db.session() as s:
            interactions_db.set_reply_ref(session=s, interaction_id=interaction_id,
                                          reply_ref=reply_ref)

    async def aattach_reply(self, *, interaction_id: uuid.UUID, reply_ref: str) -> None:
        await asyncio.to_thread(self.attach_reply, interaction_id=interaction_id,
                                reply_ref=reply_ref)

    def interaction_for_reply(self, *, platform: str, reply_ref: str) -> uuid.UUID | None:
        with self.db.session() as s:
            row = feedback_db.interaction_by_reply(session=s, platform=platform,
                                                   reply_ref=reply_ref)
            return row.id if row else None

    def is_bot_thread(self, *, platform: str, channel: str, thread: str) -> bool:
        """Has lorebot already answered in this thread (so follow-ups are for it)?"""
        with self.db.session() as s:
            return interactions_db.answered_in_thread(session=s, platform=platform,
                                                      channel=channel, thread=thread)

    # --- feedback ---
    def vote(
        self,
        *,
        user: Actor,
        value: int,
        signal: str,
        interaction_id: uuid.UUID | None = None,
        reply_ref: str | None = None,
        comment: str | None = None,
    ) -> bool:
        """Record a +1/-1 from ``user`` on an answer. False if the answer is unknown."""
        iid = self._answer_id(user, interaction_id, reply_ref)
        if iid is None:
            log.info("vote on a message that is not a lorebot answer ignored")
            return False
        with self.db.session() as s:
            feedback_db.upsert_vote(session=s, interaction_id=iid,
                                    user_hash=user_hash(self.settings, user), value=value,
                                    signal=signal, comment=comment)
        return True

    def unvote(
        self,
        *,
        user: Actor,
        value: int | None = None,
        interaction_id: uuid.UUID | None = None,
        reply_ref: str | None = None,
    ) -> bool:
        iid = self._answer_id(user, interaction_id, reply_ref)
        if iid is None:
            return False
        with self.db.session() as s:
            return feedback_db.remove_vote(session=s, interaction_id=iid,
                                           user_hash=user_hash(self.settings, user), value=value)

    def _answer_id(self, user: Actor, interaction_id: uuid.UUID | None,
                   reply_ref: str | None) -> uuid.UUID | None:
        """The answer a vote is about: given directly (buttons) or by its message (reactions)."""
        if interaction_id is not None:
            return interaction_id
        if reply_ref:
            return self.interaction_for_reply(platform=user.platform, reply_ref=reply_ref)
        return None

    def comment(self, *, user: Actor, interaction_id: uuid.UUID, text: str) -> bool:
        with self.db.session() as s:
            return feedback_db.add_comment(session=s, interaction_id=interaction_id,
                                           user_hash=user_hash(self.settings, user), comment=text)

    # --- events ---
    def claim_event(self, *, platform: str, event_id: str) -> bool:
        """True the first time any replica sees this event id; retries get False."""
        with self.db.session() as s:
            return events_db.claim_event(session=s, platform=platform, event_id=event_id)

    # --- admin ---
    def command(
        self, text: str, *, actor: Actor, channel: ChannelRef,
        notify: Callable[[str], None] | None = None,
    ) -> CommandResult:
        return self.router.handle(text, actor=actor, channel=channel, notify=notify)

    def commands(self) -> list[CommandInfo]:
        """Every admin command of the registry (whatever router is plugged in)."""
        from bot.admin.router import build_registry

        registry = getattr(self._router, "registry", None) or build_registry()
        return [CommandInfo(name=s.name, usage=s.usage, help=s.help, completes=s.completes)
                for s in registry.all()]

    def complete(self, kind: str, prefix: str, *, actor: Actor | None = None,
                 limit: int = 25) -> list[str]:
        """Names of ``kind`` (``bot.types.COMPLETION_KINDS``) starting with ``prefix``, for an
        admin argument being typed. Empty for someone who may not run admin commands: the
        names of sources are not for everyone's eyes."""
        from bot.admin.auth import is_admin
        from bot.db.names import names_with_prefix

        if actor is not None and not is_admin(self.settings, actor):
            return []
        with self.db.session() as s:
            return names_with_prefix(session=s, kind=kind, prefix=prefix.strip(), limit=limit)

    async def acommand(self, text: str, *, actor: Actor, channel: ChannelRef,
                       notify: Callable[[str], None] | None = None) -> CommandResult:
        return await asyncio.to_thread(self.command, text, actor=actor, channel=channel,
                                       notify=notify)

    def wait_for_background(self, timeout: float | None = None) -> bool:
        """Wait for long admin commands (reindex, train) started here; True if none is left."""
        if self._router is None:
            return True
        jobs = getattr(self._router, "jobs", None)
        return jobs.wait(timeout) if jobs is not None else True

    def close(self) -> None:
        self.db.dispose()

    def __repr__(self) -> str:  # never shows settings (secrets) in a traceback
        return f"LoreBot(db={self.db.safe_url})"


