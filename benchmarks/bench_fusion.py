"""Fusion sweep on SciFact train claims: tune on one half, report on the other.

The claims are split by a hash of their id (``stable_split``, salt ``fusion``: the same halves
on every run and machine). Each arm's candidate list (with its scores) is fetched once per
claim through the real search statement; RRF (k, weights), min-max and z-score (weights)
are then swept in Python over those lists, mirroring the SQL of ``knowledge/store/search.py``
(checked: the tuned winner and the default are re-run through the SQL on the report half).
The best configuration on the tune half is reported on the report half next to the current
default; it should become the default only if it also wins there.

Needs the SciFact collection ingested (``bench_retrieval.py quality`` with the same
``--data-dir``); only questions run here, so a sweep takes a minute or two:

    python benchmarks/bench_fusion.py --data-dir /tmp/embed-bench > benchmarks/fusion_scifact.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.runtime import open_database  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from knowledge.adaptation.pairs import stable_split  # noqa: E402
from knowledge.embeddings import embedder_from_settings  # noqa: E402
from knowledge.evaluation import evaluate_rankings, load_beir  # noqa: E402
from knowledge.store.search import SearchParams, search  # noqa: E402

Arm = list[tuple[str, float]]  # (document id, arm score), best first

RATIOS = (0.25, 0.33, 0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0)  # keyword weight / vector weight
RRF_KS = (5, 10, 20, 30, 60, 100)


def _norm(arm: Arm, method: str) -> tuple[dict[str, float], float]:
    """Each document's normalised score in this arm, and the value for one it did not return."""
    xs = np.asarray([s for _, s in arm], dtype=np.float64)
    if not len(xs):
        return {}, 0.0
    if method == "minmax":
        lo, span = xs.min(), xs.max() - xs.min()
        return {d: (s - lo) / span if span else 1.0 for d, s in arm}, 0.0
    mu, sd = xs.mean(), xs.std()
    return ({d: (s - mu) / sd if sd else 0.0 for d, s in arm},
            float((xs.min() - mu) / sd) if sd else 0.0)


def fuse(vec: Arm, kw: Arm, *, method: str, wv: float, wk: float, k: float = 60) -> list[str]:
    """The SQL's fusion in Python over the same candidate lists (ties by chunk id there, by
    document id here: one chunk per document in this corpus)."""
    scores: dict[str, float] = {}
    if method == "rrf":
        for pos, (d, _) in enumerate(vec, 1):
            scores[d] = scores.get(d, 0.0) + wv / (k + pos)
        for pos, (d, _) in enumerate(kw, 1):
            scores[d] = scores.get(d, 0.0) + wk / (k + pos)
    else:
        nv, mv = _norm(vec, method)
        nk, mk = _norm(kw, method)
        for d in set(nv) | set(nk):
            scores[d] = wv * nv.get(d, mv) + wk * nk.get(d, mk)
    return [d for d, _ in sorted(scores.items(), key=lambda t: (-t[1], t[0]))]


def configs() -> list[dict]:
    out = [{"fusion": "rrf", "rrf_k": k, "vector_weight": 1.0, "keyword_weight": r}
           for k in RRF_KS for r in RATIOS]
    out += [{"fusion": m, "vector_weight": 1.0, "keyword_weight": r}
            for m in ("minmax", "zscore") for r in RATIOS]
    return out


def _score(ranks: dict[str, list[str]], qrels: dict, qids: Sequence[str]) -> dict:
    r = evaluate_rankings("x", {q: ranks[q] for q in qids}, [0.0], {q: qrels[q] for q in qids})
    return {"ndcg_10": round(r.ndcg_10, 4), "recall_10": round(r.recall_10, 4),
            "recall_100": round(r.recall_100, 4), "mrr_10": round(r.mrr_10, 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/eval/scifact-train")
    ap.add_argument("--split", default="train")
    ap.add_argument("--data-dir", default="/tmp/embed-bench")
    ap.add_argument("--collection", default="eval-scifact-train-whole")
    ap.add_argument("--candidates", type=int, default=100,
                    help="per-arm list length (100: what `lorebot eval retrieval` fuses)")
    args = ap.parse_args()
    settings = load_settings(_env_file=None, lorebot_data_dir=args.data_dir, database_url=None)
    db = open_database(settings)
    data = load_beir(args.data, split=args.split)
    qids = sorted(q for q in data.qrels if q in data.queries)
    tune, report = stable_split(qids, validation_fraction=0.5, salt="fusion")
    embedder = embedder_from_settings(settings)
    t0 = time.perf_counter()
    vectors = dict(zip(qids, embedder.embed([data.queries[q] for q in qids]), strict=True))
    embed_s = time.perf_counter() - t0
    n = args.candidates
    lists: dict[str, dict[str, Arm]] = {"vector": {}, "keyword": {}}
    t0 = time.perf_counter()
    with db.session() as s:
        for q in qids:
            for mode in ("vector", "keyword"):
                hits = search(session=s, params=SearchParams(
                    collections=[args.collection], top_k=n, candidates=n, mode=mode,
                    ef_search=settings.retrieval_ef_search), query_text=data.queries[q],
                    query_vector=vectors[q])
                arm: Arm = []
                seen: set[str] = set()
                for h in hits:  # documents by their best chunk, as the evaluation ranks them
                    d = h.uri.removeprefix("beir:")
                    if d not in seen:
                        seen.add(d)
                        arm.append((d, h.similarity if mode == "vector" else h.keyword_rank))
                lists[mode][q] = arm
    if not any(lists["vector"].values()):
        raise SystemExit(f"collection {args.collection} is empty: run bench_retrieval.py quality")
    arms_s = time.perf_counter() - t0
    per_arm = {mode: {"tune": _score({q: [d for d, _ in lists[mode][q]] for q in qids},
                                     data.qrels, tune),
                      "report": _score({q: [d for d, _ in lists[mode][q]] for q in qids},
                                       data.qrels, report)}
               for mode in ("vector", "keyword")}
    rows = []
    for c in configs():
        ranks = {q: fuse(lists["vector"][q], lists["keyword"][q], method=c["fusion"],
                         wv=c["vector_weight"], wk=c["keyword_weight"], k=c.get("rrf_k", 60))
                 for q in qids}
        rows.append({**c, "tune": _score(ranks, data.qrels, tune),
                     "report": _score(ranks, data.qrels, report)})
    default = next(r for r in rows if r["fusion"] == "rrf" and r["rrf_k"] == 60
                   and r["keyword_weight"] == 1.0)
    best_tune = max(rows, key=lambda r: r["tune"]["ndcg_10"])
    best_per_method = {m: max((r for r in rows if r["fusion"] == m), key=lambda r: r["tune"]["ndcg_10"])
                       for m in ("rrf", "minmax", "zscore")}

    def sql_check(c: dict) -> dict:
        """The configuration through the real statement (hybrid, same candidates)."""
        ranks = {}
        with db.session() as s:
            for q in report:
                p = SearchParams(collections=[args.collection], top_k=n, candidates=n,
                                 fusion=c["fusion"], rrf_k=c.get("rrf_k", 60),
                                 vector_weight=c["vector_weight"], keyword_weight=c["keyword_weight"],
                                 ef_search=settings.retrieval_ef_search)
                ranked: list[str] = []
                for h in search(session=s, params=p, query_text=data.queries[q],
                                query_vector=vectors[q]):
                    d = h.uri.removeprefix("beir:")
                    if d not in ranked:
                        ranked.append(d)
                ranks[q] = ranked
        return _score(ranks, data.qrels, report)

    sql = {"default": sql_check(default), "best_on_tune": sql_check(best_tune)}
    wins = best_tune["report"]["ndcg_10"] > default["report"]["ndcg_10"]
    out = {
        "dataset": args.data, "split": args.split, "collection": args.collection,
        "embedding": embedder.model_id, "runtime": embedder.runtime,
        "split_rule": "stable_split(qids, validation_fraction=0.5, salt='fusion'): sha256 of the "
                      "query id; tune = first half, report = second",
        "queries": {"tune": len(tune), "report": len(report)},
        "candidates_per_arm": n, "seconds": {"embed_queries": round(embed_s, 1),
                                             "arm_lists": round(arms_s, 1)},
        "per_arm": per_arm,
        "default": default,
        "best_on_tune": best_tune,
        "best_on_tune_per_method": best_per_method,
        "best_wins_on_report": wins,
        "report_half_through_sql": sql,
        "top10_on_tune": sorted(rows, key=lambda r: -r["tune"]["ndcg_10"])[:10],
        "all": rows,
    }
    db.dispose()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
