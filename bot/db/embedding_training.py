"""Records behind embedding adaptation: voted questions, model versions, the active space.

Voted questions are read from ``interactions`` (its ``cited`` list holds
``{"chunk_id": ..., "score": ...}``) and ``feedback``. Model versions live in
``embedding_models``; which vector space retrieval reads is one row in ``lorebot_meta``, so
switching is a single committed update that every reader sees at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from bot.db.models import EmbeddingModel, Feedback, Interaction, Meta

ACTIVE_KEY = "embedding_space.active"
PREVIOUS_KEY = "embedding_space.previous"


@dataclass
class VotedQuestion:
    """One question with what its voted answers cited (grouped by the question's text)."""

    key: str
    question: str
    positive_chunk_ids: list[int] = field(default_factory=list)
    negative_chunk_ids: list[int] = field(default_factory=list)
    positive_texts: list[str] = field(default_factory=list)
    negative_texts: list[str] = field(default_factory=list)
    interaction_ids: list[uuid.UUID] = field(default_factory=list)


def _cited_ids(cited: Sequence[Any]) -> list[int]:
    ids = []
    for item in cited or []:
        value = item.get("chunk_id") if isinstance(item, dict) else None
        if value is not None:
            try:
                ids.append(int(value))
            except (TypeError, ValueError):
                continue
    return ids


def voted_questions(*, session: Session, since: datetime | None = None) -> list[VotedQuestion]:
    """Questions whose answers were voted on, with cited chunks split by the vote's sign.

    An answer's net vote decides: above zero its citations are positives, below zero hard
    negatives. A chunk that is both (cited by a 👍 and a 👎 answer) counts only as positive.
    Citations of chunks deleted since are dropped.
    """
    net = func.sum(Feedback.value).label("net")
    stmt = (
        select(Interaction.id, Interaction.question, Interaction.standalone_question,
               Interaction.cited, net)
        .join(Feedback, Feedback.interaction_id == Interaction.id)
        .group_by(Interaction.id)
        .order_by(Interaction.created_at, Interaction.id)
    )
    if since is not None:
        stmt = stmt.where(Interaction.created_at >= since)
    by_question: dict[str, VotedQuestion] = {}
    for iid, question, standalone, cited, total in session.execute(stmt).all():
        if not total:
            continue
        asked = (standalone or question or "").strip()
        if not asked:
            continue
        key = " ".join(asked.lower().split())
        rec = by_question.setdefault(key, VotedQuestion(key=key, question=asked))
        rec.interaction_ids.append(iid)
        target = rec.positive_chunk_ids if total > 0 else rec.negative_chunk_ids
        for cid in _cited_ids(cited):
            if cid not in target:
                target.append(cid)
    wanted = {c for r in by_question.values() for c in r.positive_chunk_ids + r.negative_chunk_ids}
    texts = chunk_texts_by_id(session=session, chunk_ids=sorted(wanted))
    out = []
    for rec in by_question.values():
        rec.negative_chunk_ids = [c for c in rec.negative_chunk_ids if c not in rec.positive_chunk_ids]
        rec.positive_chunk_ids = [c for c in rec.positive_chunk_ids if c in texts]
        rec.negative_chunk_ids = [c for c in rec.negative_chunk_ids if c in texts]
        rec.positive_texts = [texts[c] for c in rec.positive_chunk_ids]
        rec.negative_texts = [texts[c] for c in rec.negative_chunk_ids]
        out.append(rec)
    return out


def chunk_texts_by_id(*, session: Session, chunk_ids: Sequence[int]) -> dict[int, str]:
    if not chunk_ids:
        return {}
    rows = session.execute(
        text("SELECT id, text FROM chunks WHERE id = ANY(:ids)"), {"ids": list(chunk_ids)}
    ).all()
    return {int(r[0]): r[1] for r in rows}


# --- model versions ---------------------------------------------------------------------------
def register_embedding_model(
    *, session: Session, version: str, base_model: str, path: str, dimension: int,
    metrics: dict[str, Any] | None = None, status: str = "candidate",
) -> EmbeddingModel:
    """Record a model version (or a reduced space of one); the version must be new."""
    if get_embedding_model(session=session, version=version) is not None:
        raise ValueError(f"embedding model version {version!r} already exists; pick another name")
    row = EmbeddingModel(version=version, base_model=base_model, path=path, dimension=dimension,
                         metrics=metrics or {}, status=status)
    session.add(row)
    session.flush()
    return row


def get_embedding_model(*, session: Session, version: str) -> EmbeddingModel | None:
    return session.execute(
        select(EmbeddingModel).where(EmbeddingModel.version == version)
    ).scalar_one_or_none()


def list_embedding_models(*, session: Session) -> list[EmbeddingModel]:
    return list(session.execute(select(EmbeddingModel).order_by(EmbeddingModel.id)).scalars())


def update_embedding_model(
    *, session: Session, version: str, status: str | None = None,
    metrics: dict[str, Any] | None = None, activated: bool = False,
) -> EmbeddingModel:
    """Change a version's status and merge ``metrics`` into what it has."""
    row = get_embedding_model(session=session, version=version)
    if row is None:
        raise ValueError(f"no embedding model version {version!r}; see `lorebot embeddings list`")
    if status is not None:
        row.status = status
    if metrics:
        row.metrics = {**(row.metrics or {}), **metrics}
    if activated:
        row.activated_at = datetime.now(UTC)
    session.flush()
    return row


def next_version(*, session: Session, prefix: str = "adapted") -> str:
    """``<prefix>-<n>`` with ``n`` one above any version that starts with the prefix."""
    rows = session.execute(
        select(EmbeddingModel.version).where(EmbeddingModel.version.like(f"{prefix}-%"))
    ).scalars()
    numbers = [int(v.rsplit("-", 1)[1]) for v in rows if v.rsplit("-", 1)[1].isdigit()]
    return f"{prefix}-{max(numbers, default=0) + 1}"


# --- which space is active --------------------------------------------------------------------
def get_meta(*, session: Session, key: str) -> str | None:
    return session.execute(select(Meta.value).where(Meta.key == key)).scalar_one_or_none()


def set_meta(*, session: Session, key: str, value: str) -> None:
    stmt = insert(Meta).values(key=key, value=value)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[Meta.key], set_={"value": stmt.excluded.value, "updated_at": func.now()}
    ))


def delete_meta(*, session: Session, key: str) -> None:
    session.execute(delete(Meta).where(Meta.key == key))


def active_version(*, session: Session) -> str | None:
    """The version retrieval reads now; None means the original ``chunks.embedding`` column."""
    return get_meta(session=session, key=ACTIVE_KEY)


def lock_switch(*, session: Session) -> None:
    """Serialise switch-overs (two admins activating at once) until the transaction ends."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('lorebot.embedding_switch'))"))


def all_chunk_texts(*, session: Session, limit: int | None = None) -> dict[int, str]:
    """Every chunk's text by id (the corpus questions are ranked over when evaluating)."""
    sql = "SELECT id, text FROM chunks ORDER BY id"
    if limit is not None:
        sql += f" LIMIT {int(limit):d}"
    return {int(r[0]): r[1] for r in session.execute(text(sql)).all()}
