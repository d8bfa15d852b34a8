"""Questions and the answers given: the record every answer leaves behind."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.db.models import Interaction
from bot.identity import user_hash
from bot.settings import Settings
from bot.types import Actor


def save_interaction(
    *,
    session: Session,
    settings: Settings,
    asker: Actor,
    platform: str,
    channel: str,
    thread: str | None,
    question: str,
    answer: str,
    standalone_question: str | None = None,
    draft_answer: str | None = None,
    cited: list[dict[str, Any]] | None = None,
    collections: list[str] | None = None,
    model_versions: dict[str, Any] | None = None,
    latency_ms: float = 0.0,
    timings: dict[str, float] | None = None,
    abstained: bool = False,
    style_rejected: str | None = None,
) -> Interaction:
    """Log one answer; the asker is kept only as a salted hash."""
    row = Interaction(
        id=uuid.uuid4(), platform=platform, channel=channel, thread=thread,
        asker_hash=user_hash(settings, asker), question=question,
        standalone_question=standalone_question, draft_answer=draft_answer, answer=answer,
        cited=cited or [], collections=collections or [], model_versions=model_versions or {},
        latency_ms=latency_ms, timings=timings or {}, abstained=abstained,
        style_rejected=style_rejected,
    )
    session.add(row)
    session.flush()
    return row


def thread_turns(
    *, session: Session, platform: str, channel: str, thread: str, limit: int = 5
) -> list[Interaction]:
    """Earlier answers in this thread, oldest first (the thread may be rooted at a bot reply)."""
    rows = session.execute(
        select(Interaction)
        .where(Interaction.platform == platform, Interaction.channel == channel,
               or_(Interaction.thread == thread, Interaction.reply_ref == thread))
        .order_by(Interaction.created_at.desc(), Interaction.id)
        .limit(limit)
    ).scalars()
    return list(reversed(list(rows)))


def recent_interactions(
    *, session: Session, limit: int = 20, abstained: bool | None = None,
    platform: str | None = None,
) -> list[Interaction]:
    """Newest first; ``abstained=True`` lists the knowledge gaps admins should fill."""
    stmt = select(Interaction).order_by(Interaction.created_at.desc()).limit(limit)
    if abstained is not None:
        stmt = stmt.where(Interaction.abstained.is_(abstained))
    if platform:
        stmt = stmt.where(Interaction.platform == platform)
    return list(session.execute(stmt).scalars())


def abstained_queries(*, session: Session, limit: int = 20) -> list[Interaction]:
    return recent_interactions(session=session, limit=limit, abstained=True)


def get_interaction(*, session: Session, interaction_id: uuid.UUID) -> Interaction | None:
    return session.get(Interaction, interaction_id)


def set_reply_ref(*, session: Session, interaction_id: uuid.UUID, reply_ref: str) -> None:
    """Remember which platform message carries the answer, so reactions on it find it."""
    from sqlalchemy import update

    session.execute(update(Interaction).where(Interaction.id == interaction_id)
                    .values(reply_ref=reply_ref))


def answered_in_thread(*, session: Session, platform: str, channel: str, thread: str) -> bool:
    """Has lorebot answered in this thread (asked in it, or its answer started it)?"""
    from sqlalchemy import exists

    return bool(session.execute(select(exists().where(
        Interaction.platform == platform, Interaction.channel == channel,
        or_(Interaction.thread == thread, Interaction.reply_ref == thread),
    ))).scalar())


def popular_questions(
    *, session: Session, limit: int = 4, days: int = 30, min_askers: int = 2, max_chars: int = 150,
) -> list[str]:
    """The most-asked answered questions of the last ``days``, most askers first.

    Only questions at least ``min_askers`` different people asked: a question one person typed
    may be private to them, and these are shown to everyone (the agent pane's suggestions).
    """
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func

    key = func.lower(func.btrim(Interaction.question))
    askers = func.count(func.distinct(Interaction.asker_hash))
    stmt = (
        select(func.min(Interaction.question), askers)
        .where(Interaction.abstained.is_(False),
               Interaction.created_at >= datetime.now(UTC) - timedelta(days=days),
               func.length(Interaction.question) <= max_chars)
        .group_by(key)
        .having(askers >= min_askers)
        .order_by(askers.desc(), func.max(Interaction.created_at).desc())
        .limit(limit)
    )
    return [row[0].strip() for row in session.execute(stmt)]


def style_rejections(*, session: Session, since: datetime, latest: int = 3
                     ) -> tuple[dict[str, int], list[str]]:
    """Rejected style rewrites since ``since``: counts by kind (the reason's text up to its first
    colon, e.g. "number", "role") and the newest ``latest`` reasons in full."""
    kind = func.split_part(Interaction.style_rejected, ":", 1)
    rows = session.execute(
        select(kind, func.count()).where(Interaction.style_rejected.is_not(None),
                                         Interaction.created_at >= since)
        .group_by(kind).order_by(func.count().desc(), kind)).all()
    newest = session.scalars(
        select(Interaction.style_rejected).where(Interaction.style_rejected.is_not(None),
                                                 Interaction.created_at >= since)
        .order_by(Interaction.created_at.desc()).limit(latest)).all()
    return {k: n for k, n in rows}, [r for r in newest if r]
