"""Names people type in admin commands (sources, collections, style model versions), listed by
prefix for chat surfaces' autocompletion."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Collection, Source, StyleModel

_COLUMNS = {"source": Source.name, "collection": Collection.name, "model_version": StyleModel.version}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def names_with_prefix(*, session: Session, kind: str, prefix: str, limit: int = 25) -> list[str]:
    """Up to ``limit`` names of ``kind`` starting with ``prefix`` (any case), in order.

    Raises ValueError for an unknown kind, so a typo in a command declaration fails loudly."""
    column = _COLUMNS.get(kind)
    if column is None:
        raise ValueError(f"nothing to complete for {kind!r}; kinds: {', '.join(_COLUMNS)}")
    stmt = (select(column).where(column.ilike(_escape_like(prefix) + "%", escape="\\"))
            .distinct().order_by(column).limit(max(0, limit)))
    return [str(v) for v in session.execute(stmt).scalars()]
