"""Records the style-model training reads and writes: labelled interactions and ``style_models``.

The fine-tuning package never touches the ORM itself; it calls these keyword-only functions with
a session, so every read and write of a record stays in ``bot/db``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import Feedback, Interaction, StyleModel

ACTIVE = "active"
CANDIDATE = "candidate"
RETIRED = "retired"
ROLLED_BACK = "rolled_back"


@dataclass(frozen=True)
class Vote:
    value: int
    signal: str
    correction: str | None
    at: datetime


@dataclass(frozen=True)
class LabelledInteraction:
    """One answered question with every vote and correction people gave it."""

    id: uuid.UUID
    question: str
    draft: str
    answer: str
    sources: list[str]
    abstained: bool
    votes: list[Vote] = field(default_factory=list)


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


def add_style_model(
    *, session: Session, version: str, base_model: str, path: str, metrics: dict[str, Any],
    scope: str | None = None,
) -> StyleModel:
    model = StyleModel(version=version, base_model=base_model, path=path, metrics=metrics,
                       status=CANDIDATE, scope=scope)
    session.add(model)
    session.flush()
    return model


def style_model(*, session: Session, version: str) -> StyleModel | None:
    return session.execute(
        select(StyleModel).where(StyleModel.version == version)
    ).scalar_one_or_none()


def list_style_models(*, session: Session) -> list[StyleModel]:
    return list(session.execute(
        select(StyleModel).order_by(StyleModel.created_at.desc(), StyleModel.id.desc())
    ).scalars())


def latest_style_model(*, session: Session) -> StyleModel | None:
    return session.execute(
        select(StyleModel).order_by(StyleModel.created_at.desc(), StyleModel.id.desc()).limit(1)
    ).scalar_one_or_none()


def active_style_model(*, session: Session, scope: str | None = None) -> StyleModel | None:
    """The active model for ``scope`` (a ``platform:channel`` key), else the global one."""
    stmt = select(StyleModel).where(StyleModel.status == ACTIVE)
    if scope is not None:
        scoped = session.execute(
            stmt.where(StyleModel.scope == scope).order_by(StyleModel.activated_at.desc()).limit(1)
        ).scalar_one_or_none()
        if scoped is not None:
            return scoped
    return session.execute(
        stmt.where(StyleModel.scope.is_(None)).order_by(StyleModel.activated_at.desc()).limit(1)
    ).scalar_one_or_none()


def activate_style_model(*, session: Session, version: str) -> StyleModel:
    """Make ``version`` the active model of its scope; the one it replaces becomes retired."""
    model = style_model(session=session, version=version)
    if model is None:
        raise ValueError(f"no style model {version!r}; `lorebot finetune list` shows the versions")
    scope_clause = (StyleModel.scope.is_(None) if model.scope is None
                    else StyleModel.scope == model.scope)
    for other in session.execute(
        select(StyleModel).where(StyleModel.status == ACTIVE, scope_clause,
                                 StyleModel.id != model.id).with_for_update()
    ).scalars():
        other.status = RETIRED
    model.status = ACTIVE
    model.activated_at = datetime.now(UTC)
    session.flush()
    return model


def rollback_style_model(*, session: Session, scope: str | None = None) -> StyleModel | None:
    """Deactivate the active model and reactivate the one active before it (None if none was).

    Raises ValueError when no model is active, so a rollback never silently does nothing.
    """
    current = session.execute(
        select(StyleModel).where(
            StyleModel.status == ACTIVE,
            StyleModel.scope.is_(None) if scope is None else StyleModel.scope == scope,
        ).with_for_update()
    ).scalars().all()
    if not current:
        raise ValueError("no style model is active, nothing to roll back")
    for model in current:
        model.status = ROLLED_BACK
    ids = [m.id for m in current]
    previous = session.execute(
        select(StyleModel).where(
            StyleModel.status == RETIRED, StyleModel.activated_at.is_not(None),
            StyleModel.id.not_in(ids),
            StyleModel.scope.is_(None) if scope is None else StyleModel.scope == scope,
        ).order_by(StyleModel.activated_at.desc()).limit(1)
    ).scalar_one_or_none()
    if previous is not None:
        previous.status = ACTIVE
        previous.activated_at = datetime.now(UTC)
    session.flush()
    return previous

