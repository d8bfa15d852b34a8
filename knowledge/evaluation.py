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
# The minimal writer's SQL lives with the other store SQL; re-exported for its callers.
from knowledge.store.eval_corpus import embed_with_cache, write_corpus  # noqa: E402

__all__ = ["embed_with_cache", "write_corpus"]
