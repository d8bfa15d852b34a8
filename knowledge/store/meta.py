"""Which embedding model made the stored vectors, and refusing to mix two models.

The first ingest records the model and its dimension in ``lorebot_meta``. Afterwards, a
configured model that differs is an error at start that names the command to run, instead of
silently comparing questions embedded by one model with chunks embedded by another.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from knowledge.errors import ConfigError
from knowledge.store.models import Meta

MODEL_KEY = "embedding_model"
DIMENSION_KEY = "embedding_dimension"
REEMBED_HINT = "lorebot ingest --all --reembed"


class EmbeddingModelMismatch(ConfigError):
    """The configured embedding model is not the one that made the stored vectors."""


def _configured(embedder_or_settings: Any) -> tuple[str, int]:
    """(model name, dimension) of an Embedder, or of Settings without loading the model."""
    if hasattr(embedder_or_settings, "dimension") and hasattr(embedder_or_settings, "name"):
        return str(embedder_or_settings.name), int(embedder_or_settings.dimension)
    from knowledge.embeddings import model_dimension

    name = embedder_or_settings.embedding_model
    return str(name), model_dimension(name)


def recorded_model(*, session: Session) -> tuple[str, int] | None:
    rows = dict(session.execute(
        text("SELECT key, value FROM lorebot_meta WHERE key IN (:m, :d)"),
        {"m": MODEL_KEY, "d": DIMENSION_KEY},
    ).all())
    if MODEL_KEY not in rows:
        return None
    return rows[MODEL_KEY], int(rows.get(DIMENSION_KEY, 0) or 0)


def column_dimension(*, session: Session) -> int | None:
    """The dimension the ``chunks.embedding`` column was created with (pgvector's typmod)."""
    value = session.execute(text(
        "SELECT atttypmod FROM pg_attribute "
        "WHERE attrelid = 'chunks'::regclass AND attname = 'embedding' AND NOT attisdropped"
    )).scalar_one_or_none()
    return int(value) if value is not None and value > 0 else None


def record_model(*, session: Session, name: str, dimension: int) -> None:
    for key, value in ((MODEL_KEY, name), (DIMENSION_KEY, str(dimension))):
        stmt = insert(Meta).values(key=key, value=value)
        session.execute(stmt.on_conflict_do_update(
            index_elements=[Meta.key], set_={"value": stmt.excluded.value, "updated_at": text("now()")}
        ))


def check_dimension(*, session: Session, name: str, dimension: int) -> None:
    column = column_dimension(session=session)
    if column is not None and column != dimension:
        raise EmbeddingModelMismatch(
            f"embedding model {name!r} makes {dimension}-dimensional vectors but the database "
            f"stores {column}-dimensional ones. Re-create the store for the new dimension "
            "(`lorebot db downgrade base && lorebot db upgrade`, then `lorebot ingest --all`), "
            "or activate an adapted model of the old dimension (`lorebot embeddings ...`), "
            "or set EMBEDDING_MODEL back."
        )


def check_embedding_model(db: Any, embedder_or_settings: Any) -> None:
    """Raise :class:`EmbeddingModelMismatch` if the configured model differs from the stored one.

    ``db`` is a ``Database``; ``embedder_or_settings`` an ``Embedder`` or ``Settings`` (the
    latter needs no model load: the dimension is read from the model's config).
    """
    name, dimension = _configured(embedder_or_settings)
    with db.session() as session:
        check_dimension(session=session, name=name, dimension=dimension)
        recorded = recorded_model(session=session)
    if recorded is None:
        return
    stored_name, stored_dim = recorded
    if stored_name != name:
        raise EmbeddingModelMismatch(
            f"the stored vectors were made by embedding model {stored_name!r} but EMBEDDING_MODEL "
            f"is {name!r}; run `{REEMBED_HINT}` to re-embed every chunk with the new model, or "
            f"set EMBEDDING_MODEL={stored_name} again"
        )
