"""The embedding cache: (model id, sha256 of the text) -> vector.

Unchanged text is never embedded twice, even when its document changed around it or moved
to another source. Keyed by the embedder's ``model_id``, so vectors of two models never mix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from sqlalchemy.orm import Session

from knowledge.store._pg import raw_connection

LOOKUP_BATCH = 2000


def lookup(*, session: Session, model_id: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
    """The cached vectors among ``hashes`` (missing ones are simply absent)."""
    wanted = list(dict.fromkeys(hashes))
    found: dict[str, np.ndarray] = {}
    if not wanted:
        return found
    conn = raw_connection(session)
    for start in range(0, len(wanted), LOOKUP_BATCH):
        part = wanted[start : start + LOOKUP_BATCH]
        rows = conn.execute(
            "SELECT text_hash, embedding FROM embedding_cache "
            "WHERE model = %s AND text_hash = ANY(%s)",
            (model_id, part),
        ).fetchall()
        for digest, vector in rows:
            found[digest] = _array(vector)
    return found


def store(*, session: Session, model_id: str, vectors: Mapping[str, np.ndarray]) -> int:
    """Add vectors to the cache (existing keys are kept); returns how many were sent."""
    if not vectors:
        return 0
    conn = raw_connection(session)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO embedding_cache (model, text_hash, embedding) VALUES (%s, %s, %s) "
            "ON CONFLICT (model, text_hash) DO NOTHING",
            [(model_id, digest, np.asarray(vec, dtype=np.float32)) for digest, vec in vectors.items()],
        )
    return len(vectors)


def purge_model(*, session: Session, model_id: str) -> int:
    """Forget every vector of one model (after switching models for good)."""
    conn = raw_connection(session)
    return conn.execute("DELETE FROM embedding_cache WHERE model = %s", (model_id,)).rowcount or 0


def _array(vector: object) -> np.ndarray:
    # pgvector's psycopg loader returns a Vector object (or a numpy array in older releases).
    to_numpy = getattr(vector, "to_numpy", None)
    return np.asarray(to_numpy() if to_numpy else vector, dtype=np.float32)
