"""The picture ``lorebot eval answers`` writes: hit against answer length, and the abstention
trade-off as the answerability threshold moves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from knowledge.answer_eval import Outcome, length_buckets


def write_plot(outcomes: Sequence[Outcome], report: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    rows = [r for r in length_buckets(outcomes) if r["answers"]]
    labels = [f"{r['words_from']}-{r['words_to'] or '…'}" for r in rows]
    left.bar(range(len(rows)), [r["hit"] for r in rows], color="#4c72b0")
    left.set_xticks(range(len(rows)), labels)
    for i, r in enumerate(rows):
        left.text(i, (r["hit"] or 0) + 0.01, str(r["answers"]), ha="center", fontsize=8)
    ref = report["reference"]
    if ref.get("retrieval_ceiling") is not None:
        left.axhline(ref["retrieval_ceiling"], color="k", ls="--", lw=1, label="retrieval ceiling")
    if ref.get("sliding_window_hit") is not None:
        left.axhline(ref["sliding_window_hit"], color="#dd8452", ls=":", lw=1.5,
                     label="sliding-window sentence")
    left.set_ylim(0, 1.05)
    left.set_xlabel("answer length (words); bar labels: answers")
    left.set_ylabel("hit (gold answer in the answer)")
    left.legend(loc="lower right", fontsize=8)
    curve = report.get("tradeoff") or []
    right.plot([c["abstained_answerable"] for c in curve],
               [c["abstained_unanswerable"] for c in curve], marker=".", color="#55a868")
    right.scatter([report["false_abstain_rate"] or 0], [report["unanswerable_abstain_rate"] or 0],
                  color="k", zorder=3, label="at the settings")
    right.set_xlabel("answerable questions abstained on")
    right.set_ylabel("unanswerable questions abstained on")
    right.set_xlim(0, 1)
    right.set_ylim(0, 1)
    right.plot([0, 1], [0, 1], color="grey", lw=0.5)
    right.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"{report['dataset']} ({report['split']}, {report['synthesis']})", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
