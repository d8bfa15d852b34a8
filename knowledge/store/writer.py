"""Writing documents and their chunks: the only code that inserts into ``documents``/``chunks``.

A document's row and its chunks change together inside the caller's transaction: the old
chunks are deleted and the new ones copied in (binary COPY, ids taken from the sequence up
front so LlamaIndex gets node ids back), so readers see either the old or the new version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from knowledge.store._pg import raw_connection
from knowledge.store.models import Chunk as ChunkTable
from knowledge.store.models import Document as DocumentRow

# The chunks table carries an HNSW index, where one huge DELETE sets off long index maintenance,
# so documents are deleted in batches of this many.
DELETE_BATCH = 500

COPY_COLUMNS = (
    "id", "document_id", "collection_id", "source_id", "ordinal", "text", "heading_path",
    "token_count", "text_hash", "embedding", "metadata",
)
_COPY_TYPES = ["int8", "int8", "int4", "int4", "int4", "text", "text", "int4", "varchar",
               "vector", "jsonb"]


@dataclass
class ChunkRow:
    document_id: int
    collection_id: int
    source_id: int
    ordinal: int
    text: str
    heading_path: str
    token_count: int
    text_hash: str
    embedding: np.ndarray
    metadata: dict[str, Any]


@dataclass
class DocumentRecord:
    external_id: str
    uri: str
    title: str
    content_hash: str
    version: str | None
    source_updated_at: datetime | None
    metadata: dict[str, Any]


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; a stray one must not sink the whole document.
    return value.replace("\x00", "") if "\x00" in value else value


def upsert_documents(
    *, session: Session, source_id: int, records: Sequence[DocumentRecord]
) -> dict[str, int]:
    """Insert or update document rows; returns external_id -> document id."""
    if not records:
        return {}
    values = [
        {"source_id": source_id, "external_id": r.external_id, "uri": _no_nul(r.uri),
         "title": _no_nul(r.title), "content_hash": r.content_hash, "version": r.version,
         "source_updated_at": r.source_updated_at, "metadata_": r.metadata}
        for r in records
    ]
    stmt = insert(DocumentRow).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[DocumentRow.source_id, DocumentRow.external_id],
        set_={
            "uri": stmt.excluded.uri, "title": stmt.excluded.title,
            "content_hash": stmt.excluded.content_hash, "version": stmt.excluded.version,
            "source_updated_at": stmt.excluded.source_updated_at,
            "metadata": stmt.excluded.metadata, "updated_at": text("now()"),
        },
    ).returning(DocumentRow.external_id, DocumentRow.id)
    return {ext: doc_id for ext, doc_id in session.execute(stmt).all()}


def delete_chunks_of(*, session: Session, document_ids: Sequence[int]) -> int:
    if not document_ids:
        return 0
    result = session.execute(
        text("DELETE FROM chunks WHERE document_id = ANY(:ids)"), {"ids": list(document_ids)}
    )
    return result.rowcount or 0


def copy_chunks(*, session: Session, rows: Sequence[ChunkRow]) -> list[int]:
    """COPY ``rows`` into ``chunks`` inside the session's transaction; returns their ids."""
    if not rows:
        return []
    from psycopg.types.json import Jsonb

    conn = raw_connection(session)
    ids = [r[0] for r in conn.execute(
        "SELECT nextval(pg_get_serial_sequence('chunks', 'id')) FROM generate_series(1, %s)",
        (len(rows),),
    ).fetchall()]
    with conn.cursor() as cur, cur.copy(
        f"COPY chunks ({', '.join(COPY_COLUMNS)}) FROM STDIN WITH (FORMAT BINARY)"
    ) as copy:
        copy.set_types(_COPY_TYPES)
        for chunk_id, r in zip(ids, rows, strict=True):
            copy.write_row((
                chunk_id, r.document_id, r.collection_id, r.source_id, r.ordinal, _no_nul(r.text),
                _no_nul(r.heading_path), r.token_count, r.text_hash,
                np.asarray(r.embedding, dtype=np.float32), Jsonb(r.metadata),
            ))
    return ids


def update_embeddings(*, session: Session, vectors: Sequence[tuple[int, np.ndarray]]) -> int:
    """Replace the vectors of existing chunks (re-embedding with a new model)."""
    if not vectors:
        return 0
    conn = raw_connection(session)
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE chunks SET embedding = %s, updated_at = now() WHERE id = %s",
            [(np.asarray(vec, dtype=np.float32), chunk_id) for chunk_id, vec in vectors],
        )
    return len(vectors)


def chunk_texts(
    *, session: Session, source_id: int, after_id: int = 0, limit: int = 1000
) -> list[tuple[int, str, str]]:
    """(chunk id, text, text hash) of a source's chunks in id order, a page at a time."""
    rows = session.execute(
        text("SELECT id, text, text_hash FROM chunks WHERE source_id = :s AND id > :a "
             "ORDER BY id LIMIT :n"),
        {"s": source_id, "a": after_id, "n": limit},
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


# --- bulk loading -------------------------------------------------------------------------
# Rows COPY into a table with an HNSW index at a few hundred per second, against tens of
# thousands without it; building the index once afterwards takes seconds. So a first load into
# an empty store drops the index and builds it at the end. The definition matches migration 0001.
VECTOR_INDEX = "ix_chunks_embedding_hnsw"
_CREATE_VECTOR_INDEX = (
    f"CREATE INDEX IF NOT EXISTS {VECTOR_INDEX} ON chunks USING hnsw "
    "(embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
)


def begin_bulk_load(*, session: Session) -> bool:
    """Drop the vector index if the store is empty (nothing to serve); True if it did."""
    empty = session.execute(text("SELECT NOT EXISTS (SELECT 1 FROM chunks)")).scalar()
    if not empty:
        return False
    session.execute(text(f"DROP INDEX IF EXISTS {VECTOR_INDEX}"))
    return True


def ensure_vector_index(*, session: Session) -> None:
    """(Re)build the vector index if it is missing, e.g. after a bulk load was killed."""
    # Checked first: CREATE INDEX IF NOT EXISTS would still queue for a lock on chunks.
    if session.execute(text("SELECT to_regclass(:n)"), {"n": VECTOR_INDEX}).scalar() is None:
        session.execute(text(_CREATE_VECTOR_INDEX))


def has_vector_index(*, session: Session) -> bool:
    return session.execute(text("SELECT to_regclass(:n)"), {"n": VECTOR_INDEX}).scalar() is not None


def delete_documents(*, session: Session, document_ids: list[int]) -> dict[str, int]:
    """Delete these documents and their chunks (chunks first, explicitly, to count them)."""
    if not document_ids:
        return {"documents": 0, "chunks": 0}
    chunks = session.execute(delete(ChunkTable).where(ChunkTable.document_id.in_(document_ids))).rowcount or 0
    docs = session.execute(delete(DocumentRow).where(DocumentRow.id.in_(document_ids))).rowcount or 0
    return {"documents": docs, "chunks": chunks}


def document_hashes(*, session: Session, source_id: int) -> dict[str, tuple[int, str]]:
    """external_id -> (document id, content hash) for every document of a source."""
    rows = session.execute(
        select(DocumentRow.external_id, DocumentRow.id, DocumentRow.content_hash).where(
            DocumentRow.source_id == source_id
        )
    )
    return {ext: (doc_id, digest) for ext, doc_id, digest in rows}


def other_sources_have_chunks(*, session: Session, source_id: int) -> bool:
    """Whether any source but this one has stored chunks (whose vectors a re-embed did not touch)."""
    return bool(session.execute(
        text("SELECT EXISTS (SELECT 1 FROM chunks WHERE source_id <> :s)"), {"s": source_id}
    ).scalar())
