"""``LoreBot``: the one object adapters talk to.

Adapters translate platform events into these plain calls and render what comes back; they
never touch the database, retrieval or models directly. Every method is synchronous and
thread-safe; async adapters call them through ``asyncio.to_thread`` (see the ``a*`` variants).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import update

from bot.db import events as events_db
from bot.db import feedback as feedback_db
from bot.db.models import Interaction
from bot.db.session import Database
from bot.identity import user_hash
from bot.settings import Settings
from bot.types import Actor, Answer, ChannelRef, CommandResult

log = logging.getLogger(__name__)


class Answerer(Protocol):
    def answer(
        self, question: str, *, channel: ChannelRef, thread: str | None, asker: Actor
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

            self._router = CommandRouter(self)
        return self._router

    # --- asking ---
    def ask(
        self, question: str, *, channel: ChannelRef, asker: Actor, thread: str | None = None
    ) -> Answer:
        return self.answerer.answer(question, channel=channel, thread=thread, asker=asker)

    async def aask(
        self, question: str, *, channel: ChannelRef, asker: Actor, thread: str | None = None
    ) -> Answer:
        return await asyncio.to_thread(
            self.ask, question, channel=channel, asker=asker, thread=thread
        )

    def attach_reply(self, *, interaction_id: uuid.UUID, reply_ref: str) -> None:
        """Remember which platform message carries the answer, so reactions find it."""
        with self.db.session() as s:
            s.execute(
                update(Interaction).where(Interaction.id == interaction_id)
                .values(reply_ref=reply_ref)
            )

    def interaction_for_reply(self, *, platform: str, reply_ref: str) -> uuid.UUID | None:
        with self.db.session() as s:
            row = feedback_db.interaction_by_reply(session=s, platform=platform,
                                                   reply_ref=reply_ref)
            return row.id if row else None

    def is_bot_thread(self, *, platform: str, channel: str, thread: str) -> bool:
        """Has lorebot already answered in this thread (so follow-ups are for it)?"""
        from sqlalchemy import exists, or_, select

        with self.db.session() as s:
            return bool(s.execute(select(exists().where(
                Interaction.platform == platform, Interaction.channel == channel,
                or_(Interaction.thread == thread, Interaction.reply_ref == thread),
            ))).scalar())

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

    async def acommand(self, text: str, *, actor: Actor, channel: ChannelRef,
                       notify: Callable[[str], None] | None = None) -> CommandResult:
        return await asyncio.to_thread(self.command, text, actor=actor, channel=channel,
                                       notify=notify)

    def close(self) -> None:
        self.db.dispose()

    def __repr__(self) -> str:  # never shows settings (secrets) in a traceback
        return f"LoreBot(db={self.db.safe_url})"


