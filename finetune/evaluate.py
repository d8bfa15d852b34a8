"""Held-out evaluation of a style model against the unmodified drafts (the baseline).

ROUGE-L is the LCS-based F-measure over word tokens (Lin, 2004; beta = 1.2 as in the original
ROUGE script). "effective" figures are what users would see: a rewrite the guard rejects is
replaced by its draft, exactly as the runtime does.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Sequence
from typing import Any

from finetune.dataset import Example
from finetune.guard import check

_TOKEN = re.compile(r"\w+|\[\d+\]")
BETA = 1.2


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """LCS F-measure of ``candidate`` against ``reference`` (lower-cased word tokens)."""
    c = _TOKEN.findall(candidate.lower())
    r = _TOKEN.findall(reference.lower())
    lcs = _lcs(c, r)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(c), lcs / len(r)
    return (1 + BETA**2) * precision * recall / (recall + BETA**2 * precision)


def _lengths(texts: Sequence[str]) -> dict[str, float]:
    words = [len(t.split()) for t in texts] or [0]
    return {"length_mean": round(statistics.fmean(words), 2),
            "length_median": float(statistics.median(words)),
            "length_max": float(max(words))}


def _figures(outputs: Sequence[str], examples: Sequence[Example]) -> dict[str, float]:
    scores = [rouge_l(o, e.target) for o, e in zip(outputs, examples, strict=True)]
    return {"rouge_l": round(statistics.fmean(scores), 4) if scores else 0.0, **_lengths(outputs)}


def evaluate(examples: Sequence[Example], rewrite: Callable[[Example], str]) -> dict[str, Any]:
    """Score ``rewrite`` on the approved examples of a split, with the drafts as the baseline."""
    good = [e for e in examples if e.label == "good"]
    raw: list[str] = []
    effective: list[str] = []
    passed = 0
    reasons: dict[str, int] = {}
    for example in good:
        text = rewrite(example)
        raw.append(text)
        verdict = check(text, draft=example.draft, sources=example.sources)
        if verdict.ok:
            passed += 1
            effective.append(text)
        else:
            effective.append(example.draft)
            kind = (verdict.reason or "rejected").split(":")[0]
            reasons[kind] = reasons.get(kind, 0) + 1
    drafts = [e.draft for e in good]
    return {
        "n": len(good),
        "model": {**_figures(raw, good),
                  "guard_pass_rate": round(passed / len(good), 4) if good else 0.0,
                  "guard_rejections": reasons},
        "effective": _figures(effective, good),
        "baseline": {**_figures(drafts, good), "guard_pass_rate": 1.0},
        "reference": _lengths([e.target for e in good]),
    }
