"""What style-model training reads from the bot's tables: labelled interactions.

The fine-tuning library never reads ``interactions``/``feedback`` itself: ``bot.style`` passes
this module as its feedback reader. The ``style_models`` versions moved to the one model
registry, ``knowledge.store.model_registry``; re-exported here for old imports.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Feedback, Interaction
from finetune.dataset import LabelledInteraction, Vote
from knowledge.store.model_registry import (
    ACTIVE,
    CANDIDATE,
    RETIRED,
    ROLLED_BACK,
    activate_style_model,
    active_style_model,
    add_style_model,
    latest_style_model,
    list_style_models,
    rollback_style_model,
    style_model,
)

__all__ = [
    "ACTIVE", "CANDIDATE", "RETIRED", "ROLLED_BACK", "LabelledInteraction", "Vote",
    "activate_style_model", "active_style_model", "add_style_model", "count_labelled_since",
    "labelled_interactions", "latest_style_model", "list_style_models", "rollback_style_model",
    "style_model",
]


def _sources(cited: list[Any]) -> list[str]:
    out: list[str] = []
    for item in cited or []:
        if isinstance(item, dict):
            text = " ".join(str(item.get(k) or "") for k in ("title", "heading", "snippet", "uri"))
            if text.strip():
                out.append(text)
        elif isinstance(item, str):
            out.append(item)
    return out


def labelled_interactions(*, session: Session) -> list[LabelledInteraction]:
    """Every interaction with at least one vote or correction, votes attached, oldest first."""
    rows = session.execute(
        select(Interaction, Feedback)
        .join(Feedback, Feedback.interaction_id == Interaction.id)
        .order_by(Interaction.created_at, Interaction.id, Feedback.id)
    ).all()
    by_id: dict[uuid.UUID, LabelledInteraction] = {}
    for interaction, fb in rows:
        item = by_id.get(interaction.id)
        if item is None:
            item = LabelledInteraction(
                id=interaction.id,
                question=interaction.standalone_question or interaction.question,
                draft=interaction.draft_answer or interaction.answer,
                answer=interaction.answer,
                sources=_sources(interaction.cited),
                abstained=interaction.abstained,
            )
            by_id[interaction.id] = item
        item.votes.append(Vote(value=fb.value, signal=fb.signal, correction=fb.correction,
                               at=fb.updated_at or fb.created_at))
    return list(by_id.values())


def count_labelled_since(*, session: Session, since: datetime | None) -> int:
    """Interactions whose feedback was given or changed after ``since`` (all when None)."""
    stmt = select(func.count(func.distinct(Feedback.interaction_id)))
    if since is not None:
        stmt = stmt.where(func.coalesce(Feedback.updated_at, Feedback.created_at) > since)
    return int(session.execute(stmt).scalar_one())
