"""The evaluation's minimal corpus writer: documents, chunks and the embedding cache written
directly, without the ingestion pipeline (``bot.ingest`` is the normal way in).

It writes the same rows the pipeline writes, so the retriever sees exactly what it sees in
production, and keeps ``lorebot eval`` and the benchmarks usable on their own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import text as sql

from knowledge.embeddings import text_hash
from knowledge.store.search import vector_literal
from knowledge.store.terms import refresh_term_stats
from knowledge.types import Chunk, Document


def embed_with_cache(*, session: Any, embedder: Any, texts: Sequence[str],
                     progress: bool = False) -> np.ndarray:
    """Embeddings for ``texts``, reading and filling the ``embedding_cache`` table."""
    hashes = [text_hash(t) for t in texts]
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(hashes), 2000):
        part = list(set(hashes[start:start + 2000]))
        for h, emb in session.execute(
            sql("SELECT text_hash, embedding::text FROM embedding_cache "
                "WHERE model = :m AND text_hash = ANY(:h)"),
            {"m": embedder.model_id, "h": part},
        ):
            found[h] = np.asarray(json.loads(emb), dtype=np.float32)
    missing = sorted({h: i for i, h in enumerate(hashes) if h not in found}.values())
    if missing:
        step = 256
        it: Iterable[int] = range(0, len(missing), step)
        if progress:
            from tqdm import tqdm

            it = tqdm(it, desc="embedding", unit="batch", total=math.ceil(len(missing) / step))
        for start in it:
            idx = missing[start:start + step]
            vecs = embedder.embed([texts[i] for i in idx])
            rows = []
            for i, v in zip(idx, vecs, strict=True):
                found[hashes[i]] = v
                rows.append({"m": embedder.model_id, "h": hashes[i], "e": vector_literal(v)})
            session.execute(
                sql("INSERT INTO embedding_cache (model, text_hash, embedding) "
                    "VALUES (:m, :h, CAST(:e AS vector)) ON CONFLICT DO NOTHING"), rows)
    return np.stack([found[h] for h in hashes]) if hashes else np.zeros((0, embedder.dimension))


def write_corpus(
    *,
    session: Any,
    embedder: Any,
    collection: str,
    source: str,
    docs: Sequence[tuple[Document, list[Chunk]]],
    location: str = "",
    kind: str = "jsonl",
    embed_prefix: str = "",
    progress: bool = False,
) -> int:
    """Write documents and their chunks (replacing earlier chunks of the same documents)."""
    cid = session.execute(
        sql("INSERT INTO collections (name) VALUES (:n) ON CONFLICT (name) "
            "DO UPDATE SET name = EXCLUDED.name RETURNING id"), {"n": collection}).scalar_one()
    sid = session.execute(
        sql("INSERT INTO sources (name, kind, location, collection_id) VALUES (:n, :k, :l, :c) "
            "ON CONFLICT (name) DO UPDATE SET location = EXCLUDED.location RETURNING id"),
        {"n": source, "k": kind, "l": location, "c": cid}).scalar_one()
    texts = [embed_prefix + c.text for _, chunks in docs for c in chunks]
    vectors = embed_with_cache(session=session, embedder=embedder, texts=texts, progress=progress)
    row = 0
    written = 0
    for doc, chunks in docs:
        did = session.execute(
            sql("INSERT INTO documents (source_id, external_id, uri, title, content_hash, metadata) "
                "VALUES (:s, :e, :u, :t, :h, CAST(:m AS jsonb)) "
                "ON CONFLICT (source_id, external_id) DO UPDATE SET uri = EXCLUDED.uri, "
                "title = EXCLUDED.title, content_hash = EXCLUDED.content_hash, "
                "metadata = EXCLUDED.metadata RETURNING id"),
            {"s": sid, "e": doc.external_id, "u": doc.uri, "t": doc.title,
             "h": text_hash(doc.text), "m": json.dumps(doc.metadata)}).scalar_one()
        session.execute(sql("DELETE FROM chunks WHERE document_id = :d"), {"d": did})
        rows = []
        for c in chunks:
            rows.append({"d": did, "c": cid, "s": sid, "o": c.ordinal, "t": c.text,
                         "hp": c.heading_path, "tc": c.token_count, "th": text_hash(c.text),
                         "e": vector_literal(vectors[row]),
                         "m": json.dumps({**doc.metadata, **c.metadata})})
            row += 1
        if rows:
            session.execute(
                sql("INSERT INTO chunks (document_id, collection_id, source_id, ordinal, text, "
                    "heading_path, token_count, text_hash, embedding, metadata) VALUES "
                    "(:d, :c, :s, :o, :t, :hp, :tc, :th, CAST(:e AS vector), CAST(:m AS jsonb))"),
                rows)
            written += len(rows)
    session.execute(sql("UPDATE sources SET last_success_at = now(), last_run_at = now(), "
                        "status = 'ok' WHERE id = :s"), {"s": sid})
    refresh_term_stats(session=session)
    return written
