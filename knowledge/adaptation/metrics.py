"""Retrieval quality on labelled queries for the gate: exact (brute-force) search, scored.

Pure numpy so two models can be compared on the same held-out queries without a database;
the metric definitions are ``knowledge.evaluation``'s, so there is one nDCG in the project.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from knowledge.evaluation import ndcg_at, recall_at


def exact_rankings(
    query_vectors: np.ndarray, doc_vectors: np.ndarray, doc_ids: Sequence[str], k: int = 10
) -> list[list[str]]:
    """Top-``k`` doc ids per query by cosine (vectors are unit length, so a dot product)."""
    scores = query_vectors.astype(np.float32) @ doc_vectors.astype(np.float32).T
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    out = []
    for row in range(scores.shape[0]):
        idx = top[row][np.argsort(-scores[row, top[row]], kind="stable")]
        out.append([doc_ids[j] for j in idx])
    return out


def score_rankings(
    rankings: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]], k: int = 10
) -> dict[str, float]:
    """Mean nDCG@k and recall@k over the judged queries (a query with no ranking scores 0)."""
    qids = [q for q in qrels if qrels[q]]
    if not qids:
        return {f"ndcg@{k}": 0.0, f"recall@{k}": 0.0, "queries": 0}
    ndcg = [ndcg_at(list(rankings.get(q, [])), dict(qrels[q]), k) for q in qids]
    rec = [recall_at(list(rankings.get(q, [])), dict(qrels[q]), k) for q in qids]
    return {f"ndcg@{k}": float(np.mean(ndcg)), f"recall@{k}": float(np.mean(rec)), "queries": len(qids)}
