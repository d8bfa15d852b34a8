"""Retrieval evaluation on a BEIR-layout folder, with the retriever the bot uses.

A folder holds ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``,
``text``) and ``qrels/<split>.tsv`` (``query-id  corpus-id  score``, header row). Documents are
ranked by their best chunk; metrics are nDCG@10, Recall@10, Recall@100, MRR@10 and per-query
latency (embedding + search + fusion), for the hybrid retriever and for each single arm.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.types import Chunk, Document


class EvalDataError(ValueError):
    """The folder is not a usable BEIR layout; the message says what is missing."""


@dataclass
class BeirData:
    corpus: dict[str, dict[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise EvalDataError(f"{path}:{n} is not valid JSON ({exc.msg})") from exc


def load_beir(folder: Path | str, *, split: str = "test") -> BeirData:
    folder = Path(folder)
    corpus_file, queries_file = folder / "corpus.jsonl", folder / "queries.jsonl"
    qrels_file = folder / "qrels" / f"{split}.tsv"
    for f in (corpus_file, queries_file, qrels_file):
        if not f.exists():
            hint = ""
            if f == qrels_file and (folder / "qrels").is_dir():
                splits = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
                hint = f"; available splits: {', '.join(splits) or 'none'} (use --split)"
            raise EvalDataError(f"{f} not found: a BEIR folder needs corpus.jsonl, queries.jsonl "
                                f"and qrels/<split>.tsv{hint}")
    corpus = {str(d["_id"]): {"title": d.get("title") or "", "text": d.get("text") or ""}
              for d in _read_jsonl(corpus_file)}
    queries = {str(q["_id"]): q.get("text") or "" for q in _read_jsonl(queries_file)}
    qrels: dict[str, dict[str, int]] = {}
    with qrels_file.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split("\t")
            if n == 1 and parts[0] in ("query-id", "query_id", "qid"):
                continue
            if len(parts) < 3:
                if line.strip():
                    raise EvalDataError(f"{qrels_file}:{n} needs query-id, corpus-id, score")
                continue
            try:
                score = int(float(parts[2]))
            except ValueError as exc:
                raise EvalDataError(f"{qrels_file}:{n}: score {parts[2]!r} is not a number") from exc
            if score > 0:
                qrels.setdefault(parts[0], {})[parts[1]] = score
    qrels = {q: r for q, r in qrels.items() if q in queries}
    if not qrels:
        raise EvalDataError(f"{qrels_file} judges none of the queries in {queries_file}")
    return BeirData(corpus=corpus, queries=queries, qrels=qrels)


# --- metrics ---
def ndcg_at(ranked: Sequence[str], rel: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** rel.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum((2**r - 1) / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], rel: dict[str, int], k: int) -> float:
    if not rel:
        return 0.0
    return len(set(ranked[:k]) & set(rel)) / len(rel)


def mrr_at(ranked: Sequence[str], rel: dict[str, int], k: int = 10) -> float:
    for i, d in enumerate(ranked[:k]):
        if rel.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else 0.0


@dataclass
class ArmResult:
    mode: str
    ndcg_10: float
    recall_10: float
    recall_100: float
    mrr_10: float
    latency_p50_ms: float
    latency_p95_ms: float
    queries: int
    per_query: dict[str, float] = field(default_factory=dict)  # nDCG@10 by query id

    def summary(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v)
                for k, v in self.__dict__.items() if k != "per_query"}


def evaluate_rankings(
    mode: str, rankings: dict[str, list[str]], latencies_ms: Sequence[float],
    qrels: dict[str, dict[str, int]],
) -> ArmResult:
    qids = [q for q in qrels if q in rankings]
    per = {q: ndcg_at(rankings[q], qrels[q]) for q in qids}
    n = max(1, len(qids))
    return ArmResult(
        mode=mode,
        ndcg_10=sum(per.values()) / n,
        recall_10=sum(recall_at(rankings[q], qrels[q], 10) for q in qids) / n,
        recall_100=sum(recall_at(rankings[q], qrels[q], 100) for q in qids) / n,
        mrr_10=sum(mrr_at(rankings[q], qrels[q]) for q in qids) / n,
        latency_p50_ms=percentile(latencies_ms, 50),
        latency_p95_ms=percentile(latencies_ms, 95),
        queries=len(qids),
        per_query=per,
    )


def document_text(title: str, text: str) -> str:
    """The chunk text for a BEIR document: the title leads, as a heading would."""
    return f"{title}\n{text}".strip() if title else text


def beir_documents(data: BeirData) -> list[tuple[Document, list[Chunk]]]:
    """One chunk per BEIR document (abstract-sized); the title also goes in the heading path,
    which full-text search weights highest."""
    out = []
    for did, d in data.corpus.items():
        body = document_text(d["title"], d["text"])
        if not body:
            continue
        doc = Document(external_id=did, text=body, title=d["title"] or did, uri=f"beir:{did}")
        out.append((doc, [Chunk(text=body, ordinal=0, heading_path=d["title"])]))
    return out


def run_arms(
    *,
    data: BeirData,
    search_fn: Callable[[str, str], tuple[list[str], float]],
    modes: Sequence[str] = ("hybrid", "vector", "keyword"),
    limit_queries: int | None = None,
    progress: bool = False,
) -> dict[str, ArmResult]:
    """Run every judged query through ``search_fn(mode, text) -> (doc ids, ms)`` per mode."""
    qids = [q for q in data.qrels if q in data.queries]
    if limit_queries:
        qids = qids[:limit_queries]
    results: dict[str, ArmResult] = {}
    for mode in modes:
        rankings: dict[str, list[str]] = {}
        lat: list[float] = []
        it: Iterable[str] = qids
        if progress:
            from tqdm import tqdm

            it = tqdm(qids, desc=f"{mode} queries", unit="q")
        for q in it:
            ranked, ms = search_fn(mode, data.queries[q])
            rankings[q], _ = ranked, lat.append(ms)
        results[mode] = evaluate_rankings(mode, rankings, lat,
                                          {q: data.qrels[q] for q in qids})
    return results


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t0) * 1000


# --- loading a corpus -------------------------------------------------------------------------
# The ingestion pipeline (knowledge.pipeline.ingest_source) is the normal way in; this minimal
# writer keeps the evaluation usable on its own and writes the same rows (documents, chunks,
# embedding cache) so the retriever sees exactly what it sees in production.
def embed_with_cache(*, session: Any, embedder: Any, texts: Sequence[str],
                     progress: bool = False) -> np.ndarray:
    """Embeddings for ``texts``, reading and filling the ``embedding_cache`` table."""
    from sqlalchemy import text as sql

    from knowledge.embeddings import text_hash
    from knowledge.store.search import vector_literal

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
    from sqlalchemy import text as sql

    from knowledge.embeddings import text_hash
    from knowledge.store.search import vector_literal

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
    from knowledge.store.terms import refresh_term_stats

    refresh_term_stats(session=session)
    return written
