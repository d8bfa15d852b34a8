"""The gate: a new model or reduction is adopted only if held-out retrieval is at least as good.

Both sides are scored on the same held-out questions (never ones trained on) over the same
corpus by exact search, so the comparison measures the vectors and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from knowledge.adaptation import metrics
from knowledge.adaptation.pairs import LabelledSet, NoLabels

METRIC = "ndcg@10"


@dataclass
class GateResult:
    passed: bool
    metric: str
    current: dict[str, float]
    candidate: dict[str, float]
    tolerance: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "metric": self.metric, "current": self.current,
                "candidate": self.candidate, "tolerance": self.tolerance, "reason": self.reason}


def evaluate_vectors(
    *, labelled: LabelledSet, query_ids: Sequence[str], query_vectors: np.ndarray,
    doc_ids: Sequence[str], doc_vectors: np.ndarray, k: int = 10,
) -> dict[str, float]:
    """nDCG@k and recall@k of exact search for ``query_ids`` (held-out questions)."""
    if not query_ids:
        raise NoLabels("no held-out questions to evaluate on; collect more labels")
    ranked = metrics.exact_rankings(query_vectors, doc_vectors, list(doc_ids), k=k)
    return metrics.score_rankings(dict(zip(query_ids, ranked, strict=True)),
                                  {q: labelled.qrels[q] for q in query_ids}, k=k)


def evaluate_encoder(
    *, encoder: Any, labelled: LabelledSet, query_ids: Sequence[str],
    doc_ids: Sequence[str] | None = None, doc_vectors: np.ndarray | None = None,
) -> tuple[dict[str, float], list[str], np.ndarray]:
    """Score ``encoder`` (anything with ``encode(texts)``); returns (metrics, doc ids, doc vectors)
    so the corpus vectors can be reused (hard-negative mining, a second comparison)."""
    if doc_vectors is None:
        doc_ids = sorted(labelled.corpus)
        doc_vectors = encoder.encode([labelled.corpus[d] for d in doc_ids])
    assert doc_ids is not None
    qv = encoder.encode([labelled.queries[q] for q in query_ids])
    scores = evaluate_vectors(labelled=labelled, query_ids=query_ids, query_vectors=qv,
                              doc_ids=doc_ids, doc_vectors=doc_vectors)
    return scores, list(doc_ids), doc_vectors


def decide(
    current: dict[str, float], candidate: dict[str, float], *, metric: str = METRIC,
    tolerance: float = 0.0,
) -> GateResult:
    """Pass when ``candidate[metric] >= current[metric] - tolerance``."""
    cur, new = float(current[metric]), float(candidate[metric])
    passed = new >= cur - tolerance
    verb = "passes" if passed else "refused"
    reason = (f"{verb}: held-out {metric} {new:.4f} vs {cur:.4f} for the active space "
              f"({new - cur:+.4f}, tolerance {tolerance})")
    return GateResult(passed=passed, metric=metric, current=current, candidate=candidate,
                      tolerance=tolerance, reason=reason)
