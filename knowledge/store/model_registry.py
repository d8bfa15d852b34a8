"""Model versions, one registry for both kinds: embedding models (``embedding_models``, plus
which vector space is active in ``lorebot_meta``) and style models (``style_models``).

Both are a version name, a base model, a path, metrics and a status that moves
candidate -> active -> retired (or rolled_back); the adaptation and fine-tuning libraries call
these keyword-only functions with a session, the bot's CLI and admin commands list them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from knowledge.store.models import EmbeddingModel, Meta, StyleModel

ACTIVE = "active"
CANDIDATE = "candidate"
RETIRED = "retired"
ROLLED_BACK = "rolled_back"

ACTIVE_KEY = "embedding_space.active"
PREVIOUS_KEY = "embedding_space.previous"


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


# --- style model versions -------------------------------------------------------------------
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

