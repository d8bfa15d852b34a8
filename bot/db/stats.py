"""Read-only figures for ``status``, ``gaps`` and ``feedback stats``, plus retention pruning."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, exists, func, select, text, update
from sqlalchemy.orm import Session

from bot.db.models import (
    Chunk,
    Collection,
    Document,
    Feedback,
    IngestRun,
    Interaction,
    Source,
    StyleModel,
)

PRUNED = "[pruned]"
UNFINISHED = ("running", "interrupted")


@dataclass(frozen=True)
class StoreCounts:
    sources: int
    documents: int
    chunks: int
    store_bytes: int


@dataclass(frozen=True)
class QuestionStats:
    questions: int
    abstained: int
    up: int
    down: int

    @property
    def satisfaction(self) -> float | None:
        """Share of votes that were 👍, or None before anyone voted."""
        votes = self.up + self.down
        return self.up / votes if votes else None


@dataclass(frozen=True)
class GapQuestion:
    interaction_id: uuid.UUID
    question: str
    abstained: bool
    downvotes: int
    asked_at: datetime


def _in_collections(collections: list[str]) -> Any:
    """Sources whose collection is one of ``collections`` (a subquery of source ids)."""
    return (select(Source.id).join(Collection, Collection.id == Source.collection_id)
            .where(Collection.name.in_(collections)))


def store_counts(*, session: Session, collections: list[str] | None = None) -> StoreCounts:
    """Counts of the whole store, or (``collections``) of those collections only; the size on
    disk is of the whole store, so it is 0 when limited."""
    if collections is not None:
        ids = _in_collections(collections)
        sources = session.execute(select(func.count()).select_from(Source)
                                  .where(Source.id.in_(ids))).scalar_one()
        documents = session.execute(select(func.count()).select_from(Document)
                                    .where(Document.source_id.in_(ids))).scalar_one()
        chunks = session.execute(select(func.count()).select_from(Chunk)
                                 .where(Chunk.source_id.in_(ids))).scalar_one()
        return StoreCounts(sources=int(sources), documents=int(documents), chunks=int(chunks),
                           store_bytes=0)
    sources = session.execute(select(func.count()).select_from(Source)).scalar_one()
    documents = session.execute(select(func.count()).select_from(Document)).scalar_one()
    chunks = session.execute(select(func.count()).select_from(Chunk)).scalar_one()
    size = session.execute(text(
        "SELECT pg_total_relation_size('chunks') + pg_total_relation_size('documents') "
        "+ pg_total_relation_size('embedding_cache')"
    )).scalar_one()
    return StoreCounts(sources=int(sources), documents=int(documents), chunks=int(chunks),
                       store_bytes=int(size))


def source_schedules(*, session: Session, collections: list[str] | None = None) -> list[Source]:
    stmt = select(Source).order_by(Source.name)
    if collections is not None:
        stmt = stmt.where(Source.id.in_(_in_collections(collections)))
    return list(session.execute(stmt).scalars())


def last_run_started(*, session: Session, source_id: int) -> datetime | None:
    """When the latest *finished* ingest of this source started, by any trigger and replica.

    A run still marked ``running`` is either in progress (its replica holds the lock) or was
    killed; neither counts, so a killed run is redone at once rather than a period later.
    """
    return session.execute(
        select(func.max(IngestRun.started_at)).where(
            IngestRun.source_id == source_id, IngestRun.status.not_in(UNFINISHED))
    ).scalar_one()


def latest_runs(*, session: Session, limit: int = 5,
                collections: list[str] | None = None) -> list[tuple[str, IngestRun]]:
    stmt = select(Source.name, IngestRun).join(Source, Source.id == IngestRun.source_id)
    if collections is not None:
        stmt = stmt.where(Source.id.in_(_in_collections(collections)))
    rows = session.execute(stmt.order_by(IngestRun.started_at.desc()).limit(limit)).all()
    return [(name, run) for name, run in rows]


def count_ingest_runs(*, session: Session, source_id: int | None = None,
                      status: str | None = None) -> int:
    stmt = select(func.count()).select_from(IngestRun)
    if source_id is not None:
        stmt = stmt.where(IngestRun.source_id == source_id)
    if status is not None:
        stmt = stmt.where(IngestRun.status == status)
    return int(session.execute(stmt).scalar_one())


def active_style_model(*, session: Session) -> StyleModel | None:
    return session.execute(
        select(StyleModel).where(StyleModel.status == "active")
        .order_by(StyleModel.activated_at.desc().nulls_last()).limit(1)
    ).scalar_one_or_none()


def question_stats(*, session: Session, since: datetime,
                   channel: tuple[str, str] | None = None) -> QuestionStats:
    """Questions and votes since ``since``; ``channel`` (platform, id): asked there only."""
    where = [Interaction.created_at >= since]
    if channel is not None:
        where += [Interaction.platform == channel[0], Interaction.channel == channel[1]]
    questions, abstained = session.execute(
        select(func.count(), func.count().filter(Interaction.abstained)).where(*where)
    ).one()
    votes = dict(session.execute(
        select(Feedback.value, func.count()).join(Interaction)
        .where(*where).group_by(Feedback.value)
    ).all())
    return QuestionStats(questions=int(questions), abstained=int(abstained),
                         up=int(votes.get(1, 0)), down=int(votes.get(-1, 0)))


def gap_questions(*, session: Session, since: datetime, limit: int = 500) -> list[GapQuestion]:
    """Questions lorebot abstained on or that someone voted 👎, newest first."""
    downvotes = (
        select(func.count()).where(Feedback.interaction_id == Interaction.id, Feedback.value == -1)
        .correlate(Interaction).scalar_subquery()
    )
    has_down = exists().where(Feedback.interaction_id == Interaction.id, Feedback.value == -1)
    rows = session.execute(
        select(Interaction.id, Interaction.question, Interaction.standalone_question,
               Interaction.abstained, downvotes, Interaction.created_at)
        .where(Interaction.created_at >= since, Interaction.question != PRUNED,
               (Interaction.abstained | has_down))
        .order_by(Interaction.created_at.desc()).limit(limit)
    ).all()
    return [
        GapQuestion(interaction_id=r[0], question=(r[2] or r[1]), abstained=bool(r[3]),
                    downvotes=int(r[4]), asked_at=r[5])
        for r in rows
    ]


def feedback_stats(*, session: Session, since: datetime) -> dict[str, Any]:
    by_signal = dict(session.execute(
        select(Feedback.signal, func.count()).where(Feedback.created_at >= since)
        .group_by(Feedback.signal)
    ).all())
    up, down, comments, corrections = session.execute(
        select(
            func.count().filter(Feedback.value == 1),
            func.count().filter(Feedback.value == -1),
            func.count().filter(Feedback.comment.is_not(None)),
            func.count().filter(Feedback.correction.is_not(None)),
        ).where(Feedback.created_at >= since)
    ).one()
    answered = session.execute(
        select(func.count(func.distinct(Feedback.interaction_id)))
        .where(Feedback.created_at >= since)
    ).scalar_one()
    return {"up": int(up), "down": int(down), "comments": int(comments),
            "corrections": int(corrections), "answers_voted": int(answered),
            "by_signal": {k: int(v) for k, v in by_signal.items()}}


def feedback_rows(*, session: Session, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """Every vote with its question and answer, for export (asker ids are already hashes)."""
    stmt = (
        select(Feedback, Interaction).join(Interaction, Interaction.id == Feedback.interaction_id)
        .order_by(Feedback.id)
    )
    if since is not None:
        stmt = stmt.where(Feedback.created_at >= since)
    for fb, it in session.execute(stmt).yield_per(500):
        yield {
            "interaction_id": str(it.id), "platform": it.platform, "channel": it.channel,
            "question": it.question, "answer": it.answer, "abstained": it.abstained,
            "cited": it.cited, "collections": list(it.collections),
            "model_versions": it.model_versions, "vote": fb.value, "signal": fb.signal,
            "comment": fb.comment, "correction": fb.correction, "user_hash": fb.user_hash,
            "voted_at": fb.created_at.isoformat(), "asked_at": it.created_at.isoformat(),
        }


def interaction_exists(*, session: Session, interaction_id: uuid.UUID) -> bool:
    return bool(session.execute(select(exists().where(Interaction.id == interaction_id))).scalar())


def find_interaction(*, session: Session, prefix: str) -> list[uuid.UUID]:
    """Interactions whose id starts with ``prefix`` (people quote the first 8 characters)."""
    return list(session.execute(
        select(Interaction.id).where(cast(Interaction.id, String).like(f"{prefix}%")).limit(2)
    ).scalars())


def prune_interaction_text(*, session: Session, older_than: datetime) -> int:
    """Blank the question and answer text of interactions asked before ``older_than``.

    The rows (votes, timings, abstentions) stay for statistics; only what people wrote goes.
    Answers with an admin's correction keep their text: it is the style model's training data.
    """
    corrected = exists().where(Feedback.interaction_id == Interaction.id,
                               Feedback.correction.is_not(None))
    result = session.execute(
        update(Interaction)
        .where(and_(Interaction.created_at < older_than, Interaction.question != PRUNED,
                    ~corrected))
        .values(question=PRUNED, standalone_question=None, draft_answer=None, answer="",
                cited=[], style_rejected=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
