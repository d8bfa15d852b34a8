"""Style guard cost and catch rate: the claim-level guard (finetune.guard.check) against the old
token-presence guard (benchmarks/token_guard_baseline.py), both in the same run on the same
answers.

Answers: every rewrite of the adversarial corpus (tests/unit/guard_corpus.py: fact-changing and
style-only rewrites and the unchanged drafts), once with the corpus passages as sources and once
with realistic retrieval context (five full sample-knowledge documents, ~1.5-3 kB each, as the
answering service passes up to RETRIEVAL_TOP_K passages). Each answer is checked ``--repeat``
times; p50/p95 are over per-answer medians (and, separately, per-answer minimums: the machine
is shared, and the minimum is the cost without other processes' contention). Also reports, for
each guard, the share of fact-changing rewrites rejected and of style-only rewrites accepted.

    python benchmarks/bench_guard.py --out benchmarks/bench_guard.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "unit"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import token_guard_baseline  # noqa: E402
from guard_corpus import DRAFTS, FACT_CHANGES, STYLE_ONLY  # noqa: E402

from finetune import guard  # noqa: E402
from finetune.claims import name_words, vocabulary  # noqa: E402

Check = Callable[..., Any]


def _answers(long_sources: bool) -> list[tuple[str, str, list[str], str]]:
    docs = sorted((ROOT / "bot" / "sample_knowledge").glob("*.md"))
    extra = [p.read_text() for p in docs if p.name != "README.md"][:4]
    out = []
    for label, items in (("fact", [(d, r) for d, _, r in FACT_CHANGES]),
                         ("style", [(d, r) for d, _, r in STYLE_ONLY]),
                         ("same", [(d, DRAFTS[d]["draft"]) for d in DRAFTS])):
        for draft_id, rewrite in items:
            sources = list(DRAFTS[draft_id]["sources"])
            if long_sources:
                sources = sources + extra[: max(0, 5 - len(sources))]
            out.append((label, rewrite, sources, DRAFTS[draft_id]["draft"]))
    return out


def _time(check: Check, answers: list[tuple[str, str, list[str], str]], repeat: int
          ) -> dict[str, Any]:
    per_answer = []
    best = []
    verdicts = []
    for _, rewrite, sources, draft in answers:
        runs = []
        for _ in range(repeat):
            vocabulary.cache_clear()  # time passages as if never seen (the caches help in real use)
            name_words.cache_clear()
            t0 = time.perf_counter()
            verdict = check(rewrite, draft=draft, sources=sources)
            runs.append((time.perf_counter() - t0) * 1000)
        per_answer.append(statistics.median(runs))
        best.append(min(runs))
        verdicts.append(verdict.ok)
    q = statistics.quantiles(per_answer, n=100)
    qb = statistics.quantiles(best, n=100)
    labels = [a[0] for a in answers]

    def rate(label: str, ok: bool) -> float:
        picked = [v for v, lab in zip(verdicts, labels, strict=True) if lab == label]
        return round(sum(1 for v in picked if v == ok) / len(picked), 4)

    return {"p50_ms": round(statistics.median(per_answer), 3), "p95_ms": round(q[94], 3),
            "max_ms": round(max(per_answer), 3),
            # The fastest of the repeats: the cost without other processes' CPU contention.
            "p50_ms_best_of_repeats": round(statistics.median(best), 3),
            "p95_ms_best_of_repeats": round(qb[94], 3),
            "fact_changes_rejected": rate("fact", False),
            "style_accepted": rate("style", True), "unchanged_accepted": rate("same", True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "bench_guard.json")
    args = ap.parse_args()
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "machine": platform.machine(),
        "corpus": {"fact_changes": len(FACT_CHANGES), "style_only": len(STYLE_ONLY),
                   "unchanged": len(DRAFTS)},
        "repeat": args.repeat,
        "load_average_1m_before": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    for name, long_sources in (("corpus_sources", False), ("five_full_documents", True)):
        answers = _answers(long_sources)
        for check in (token_guard_baseline.check, guard.check):  # warm both (regex compile)
            check(answers[0][1], draft=answers[0][3], sources=answers[0][2])
        result[name] = {
            "answers": len(answers),
            "sources_chars_mean": round(statistics.fmean(sum(map(len, a[2])) for a in answers)),
            "baseline_token_guard": _time(token_guard_baseline.check, answers, args.repeat),
            "claim_guard": _time(guard.check, answers, args.repeat),
        }
    result["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
