"""Vector spaces: the SQL for per-version vector tables next to ``chunks``.

The original space is the ``chunks.embedding`` column. Every other space (an adapted model,
a halfvec or PCA-reduced copy) is its own table ``chunk_vectors_<slug>`` holding
``(chunk_id -> chunks.id ON DELETE CASCADE, embedding vector|halfvec(N))`` with its own HNSW
index, so a new space is filled and indexed while the old one keeps serving, and dropping it
touches nothing else. These tables are created at run time (their dimension depends on the
model), so they are deliberately not in ``bot.db.models`` or the migrations.

Search in a space is ``knowledge.store.search.search`` with the space's ``VectorSource``: the
same statement, its vector arm reading the space's table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from knowledge.store._pg import raw_connection
from knowledge.store.search import (
    BASE_VECTORS,
    SearchHit,
    SearchParams,
    VectorSource,
    search,
    vector_literal,
)

STORAGES = ("vector", "halfvec")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
BASE_INDEX = "ix_chunks_embedding_hnsw"


@dataclass(frozen=True)
class VectorSpace:
    """Where one version's vectors live and what SQL type they have."""

    version: str
    table: str = "chunks"
    column: str = "embedding"
    storage: str = "vector"
    dimension: int = 384

    def __post_init__(self) -> None:
        if self.storage not in STORAGES:
            raise ValueError(f"vector storage must be one of {', '.join(STORAGES)}, not {self.storage!r}")
        if not (_IDENT.match(self.table) and _IDENT.match(self.column)):
            raise ValueError(f"unsafe table/column name {self.table}.{self.column}")
        if not 1 <= int(self.dimension) <= 16000:
            raise ValueError(f"vector dimension {self.dimension} is out of range")

    @property
    def is_base(self) -> bool:
        return self.table == "chunks"

    @property
    def vectors(self) -> VectorSource:
        """What the search SQL's vector arm reads for this space."""
        return BASE_VECTORS if self.is_base else VectorSource(self.table, self.column, self.sql_type)

    @property
    def sql_type(self) -> str:
        return f"{self.storage}({int(self.dimension)})"

    @property
    def index_name(self) -> str:
        return BASE_INDEX if self.is_base else f"ix_{self.table}_hnsw"[:63]

    @property
    def opclass(self) -> str:
        return f"{self.storage}_cosine_ops"


def _as_array(value: Any) -> np.ndarray:
    # pgvector's psycopg loader returns numpy arrays for vector, Vector objects for some casts.
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    return np.asarray(value, dtype=np.float32)


def table_for(version: str) -> str:
    """``chunk_vectors_<slug>`` for a version name (any text; the slug is a safe identifier)."""
    slug = re.sub(r"[^a-z0-9]+", "_", version.lower()).strip("_")[:40] or "v"
    return f"chunk_vectors_{slug}"


def create_space(*, session: Session, space: VectorSpace) -> None:
    """The space's table, empty and without its index (loading is far faster without it)."""
    if space.is_base:
        raise ValueError("the base space is the chunks.embedding column; it is created by migrations")
    session.execute(text(
        f"CREATE TABLE IF NOT EXISTS {space.table} ("
        f"chunk_id bigint PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE, "
        f"{space.column} {space.sql_type} NOT NULL)"
    ))


def build_index(*, session: Session, space: VectorSpace) -> None:
    """HNSW (m=16, ef_construction=128, cosine) like the base index; build after loading."""
    session.execute(text(
        f"CREATE INDEX IF NOT EXISTS {space.index_name} ON {space.table} "
        f"USING hnsw ({space.column} {space.opclass}) WITH (m = 16, ef_construction = 128)"
    ))


def drop_space(*, session: Session, space: VectorSpace) -> None:
    if space.is_base:
        raise ValueError("refusing to drop the base space (chunks.embedding)")
    session.execute(text(f"DROP TABLE IF EXISTS {space.table}"))


def space_exists(*, session: Session, space: VectorSpace) -> bool:
    return session.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": space.table}).scalar_one()


def write_vectors(
    *, session: Session, space: VectorSpace, chunk_ids: Sequence[int], vectors: np.ndarray
) -> int:
    """Insert or replace vectors; ids of chunks deleted meanwhile are skipped, not errors."""
    if space.is_base:
        raise ValueError("the base space is written by the ingestion pipeline")
    if len(chunk_ids) != len(vectors):
        raise ValueError("one vector per chunk id")
    if len(chunk_ids) and vectors.shape[1] != space.dimension:
        raise ValueError(f"space {space.version} holds {space.dimension}-d vectors, got {vectors.shape[1]}")
    conn = raw_connection(session)
    sql = (
        f"INSERT INTO {space.table} (chunk_id, {space.column}) "
        f"SELECT %s, CAST(%s AS {space.sql_type}) WHERE EXISTS (SELECT 1 FROM chunks WHERE id = %s) "
        f"ON CONFLICT (chunk_id) DO UPDATE SET {space.column} = EXCLUDED.{space.column}"
    )
    with conn.cursor() as cur:
        cur.executemany(sql, [(int(c), vector_literal(v), int(c))
                              for c, v in zip(chunk_ids, vectors, strict=True)])
    return len(chunk_ids)


def missing_chunks(
    *, session: Session, space: VectorSpace, after_id: int = 0, limit: int = 256
) -> list[tuple[int, str]]:
    """(chunk id, text) of chunks with no vector in ``space`` yet, in id order, a page at a time."""
    if space.is_base:
        where, join = "c.embedding IS NULL", ""
    else:
        join = f"LEFT JOIN {space.table} v ON v.chunk_id = c.id"
        where = "v.chunk_id IS NULL"
    rows = session.execute(
        text(f"SELECT c.id, c.text FROM chunks c {join} WHERE {where} AND c.id > :a "
             "ORDER BY c.id LIMIT :n"),
        {"a": int(after_id), "n": int(limit)},
    ).all()
    return [(int(r[0]), r[1]) for r in rows]


def counts(*, session: Session, space: VectorSpace) -> tuple[int, int]:
    """(vectors in the space, chunks in the store)."""
    chunks = int(session.execute(text("SELECT count(*) FROM chunks")).scalar_one())
    if space.is_base:
        n = session.execute(text("SELECT count(*) FROM chunks WHERE embedding IS NOT NULL")).scalar_one()
    else:
        n = session.execute(text(f"SELECT count(*) FROM {space.table}")).scalar_one()
    return int(n), chunks


def read_vectors(
    *, session: Session, space: VectorSpace, limit: int | None = None, collection: str | None = None,
) -> tuple[list[int], np.ndarray]:
    """Chunk ids and their vectors (float32) in ``space``, in id order (PCA fitting, eval);
    only ``collection``'s chunks when it is given."""
    scope = ("c.collection_id = (SELECT id FROM collections WHERE name = %(c)s)"
             if collection is not None else "true")
    if space.is_base:
        sql = (f"SELECT c.id, c.embedding FROM chunks c WHERE c.embedding IS NOT NULL AND {scope} "
               "ORDER BY c.id")
    else:
        sql = (f"SELECT v.chunk_id, v.{space.column}::vector FROM {space.table} v "
               f"JOIN chunks c ON c.id = v.chunk_id WHERE {scope} ORDER BY v.chunk_id")
    if limit is not None:
        sql += f" LIMIT {int(limit):d}"
    rows = raw_connection(session).execute(sql, {"c": collection}).fetchall()
    if not rows:
        return [], np.zeros((0, space.dimension), dtype=np.float32)
    return [int(r[0]) for r in rows], np.stack([_as_array(r[1]) for r in rows])


def analyze(*, session: Session, space: VectorSpace) -> None:
    """Planner statistics for a freshly loaded space table."""
    session.execute(text(f"ANALYZE {'chunks' if space.is_base else space.table}"))


def storage_bytes(*, session: Session, space: VectorSpace) -> dict[str, int]:
    """Size of the HNSW index, of the table holding the vectors (pg_relation_size), and of the
    stored vectors themselves."""
    index = session.execute(text("SELECT coalesce(pg_relation_size(to_regclass(:i)), 0)"),
                            {"i": space.index_name}).scalar_one()
    table = session.execute(text("SELECT coalesce(pg_relation_size(to_regclass(:t)), 0)"),
                            {"t": space.table}).scalar_one()
    vectors = session.execute(text(
        f"SELECT coalesce(sum(pg_column_size({space.column})), 0) FROM {space.table}")).scalar_one()
    return {"index_bytes": int(index), "table_bytes": int(table), "vector_bytes": int(vectors)}


def search_space(
    *, session: Session, space: VectorSpace, params: SearchParams, query_text: str,
    query_vector: Sequence[float] | np.ndarray | None,
) -> list[SearchHit]:
    """``knowledge.store.search.search`` with the vector arm reading ``space``.

    ``query_vector`` must already be in the space (embedded by its model, projected by its PCA).
    """
    # the base space's dimension is the column's; only a version's table is checked here
    wrong_size = query_vector is not None and len(query_vector) != space.dimension
    if not space.is_base and params.mode != "keyword" and wrong_size:
        raise ValueError(f"space {space.version} needs a {space.dimension}-d query vector, "
                         f"got {len(query_vector)}")  # type: ignore[arg-type]
    return search(session=session, params=params, query_text=query_text,
                  query_vector=query_vector, vectors=space.vectors)


def vectors_for_ids(
    *, session: Session, space: VectorSpace, chunk_ids: Sequence[int]
) -> dict[int, np.ndarray]:
    """The vectors ``space`` holds for ``chunk_ids`` (missing ids are simply absent)."""
    if not chunk_ids:
        return {}
    if space.is_base:
        sql = "SELECT id, embedding FROM chunks WHERE id = ANY(%s) AND embedding IS NOT NULL"
    else:
        sql = f"SELECT chunk_id, {space.column}::vector FROM {space.table} WHERE chunk_id = ANY(%s)"
    rows = raw_connection(session).execute(sql, ([int(c) for c in chunk_ids],)).fetchall()
    return {int(r[0]): _as_array(r[1]) for r in rows}
