"""Chunk texts by id: the corpus that labelled questions are ranked over."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session


def chunk_texts_by_id(*, session: Session, chunk_ids: Sequence[int]) -> dict[int, str]:
    if not chunk_ids:
        return {}
    rows = session.execute(
        text("SELECT id, text FROM chunks WHERE id = ANY(:ids)"), {"ids": list(chunk_ids)}
    ).all()
    return {int(r[0]): r[1] for r in rows}


def all_chunk_texts(*, session: Session, limit: int | None = None) -> dict[int, str]:
    """Every chunk's text by id (the corpus questions are ranked over when evaluating)."""
    sql = "SELECT id, text FROM chunks ORDER BY id"
    if limit is not None:
        sql += f" LIMIT {int(limit):d}"
    return {int(r[0]): r[1] for r in session.execute(text(sql)).all()}
