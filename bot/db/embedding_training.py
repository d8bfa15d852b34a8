"""Voted questions for embedding adaptation, read from the bot's ``interactions`` (its ``cited``
list holds ``{"chunk_id": ..., "score": ...}``) and ``feedback``.

Model versions and the active space moved to ``knowledge.store.model_registry`` (the one model
registry); they are re-exported here for old imports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Feedback, Interaction
from knowledge.adaptation.labels import VotedQuestion
from knowledge.store.corpus import all_chunk_texts, chunk_texts_by_id
from knowledge.store.model_registry import (
    ACTIVE_KEY,
    PREVIOUS_KEY,
    active_version,
    delete_meta,
    get_embedding_model,
    get_meta,
    list_embedding_models,
    lock_switch,
    next_version,
    register_embedding_model,
    set_meta,
    update_embedding_model,
)

__all__ = [
    "ACTIVE_KEY", "PREVIOUS_KEY", "VotedQuestion", "active_version", "all_chunk_texts",
    "chunk_texts_by_id", "delete_meta", "get_embedding_model", "get_meta", "list_embedding_models",
    "lock_switch", "next_version", "register_embedding_model", "set_meta", "update_embedding_model",
    "voted_questions",
]


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
