"""Sweep ANSWER_EXTRA_MARGIN x ANSWER_MAX_SENTENCES on the tuning article only (issue 14).

The objective is declared here, before any held-out number is looked at: on the TUNING article
("Normans" by default) maximise hit (gold answer in the answer text, answered answerable
questions) subject to median words <= 40 and false-abstain <= 0.08; ties broken by
first-sentence hit, then by fewer words. ANSWER_MIN_SUPPORT stays at its calibrated default
(it is the answerability threshold; this sweep is about how much an answer quotes).

It re-runs the default synthesiser (default weights, default min_support) on the passages the
real service retrieved for each question (calibrate_answers.py's cache, abstention off), so a
grid costs the synthesis only. The chosen setting is then reported once on the other article
by ``lorebot eval answers`` (benchmarks/ANSWERS.md).

    PYTHONPATH=$PWD HF_HUB_OFFLINE=1 python benchmarks/sweep_answer_margin.py \
        --out benchmarks/answers_margin_sweep.json
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.calibrate_answers import CachedEmbed, evaluate, synthesise_all  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from knowledge.answer_eval import load_qa  # noqa: E402
from knowledge.embeddings import embedder_from_settings  # noqa: E402
from knowledge.synthesis.extractive import ExtractiveSynthesizer  # noqa: E402

MARGINS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
MAX_SENTENCES = (2, 3, 4)
MAX_MEDIAN_WORDS = 40
MAX_FALSE_ABSTAIN = 0.08


def key(s: dict[str, Any]) -> tuple[float, ...]:
    """Feasible first, then hit, then first-sentence hit, then fewer words."""
    ok = (s["words_median"] or 0) <= MAX_MEDIAN_WORDS and \
        (s["false_abstain_rate"] or 0) <= MAX_FALSE_ABSTAIN
    return (float(ok), s["hit"] or 0, s["first_sentence_hit"] or 0, -(s["words_median"] or 0))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/work/shared/eval/squad2-dev")
    p.add_argument("--data-dir", default="/tmp/lore-answers-cal")
    p.add_argument("--tune-on", default="Normans")
    p.add_argument("--out", default="benchmarks/answers_margin_sweep.json")
    args = p.parse_args()
    got = pickle.loads((Path(args.data_dir) / "answers_collect.pkl").read_bytes())
    outcomes, passages = got["outcomes"], got["passages"]
    data = load_qa(args.data)
    idx = [i for i, o in enumerate(outcomes)
           if data.paragraphs[o.question.paragraph_id].article == args.tune_on]
    settings = load_settings(_env_file=None, lorebot_data_dir=args.data_dir, database_url=None)
    embed = CachedEmbed(embedder_from_settings(settings))
    rows = []
    for n in MAX_SENTENCES:
        for m in MARGINS:
            synth = ExtractiveSynthesizer(embed=embed, max_sentences=n, extra_margin=m,
                                          min_support=-1e9, max_words=settings.answer_max_words)
            s = evaluate(outcomes, synthesise_all(outcomes, passages, synth, idx),
                         settings.abstain_threshold, settings.answer_min_support, idx)
            s.pop("latency", None)
            row = {"extra_margin": m, "max_sentences": n, **{k: s[k] for k in (
                "hit", "first_sentence_hit", "words_median", "words_p90", "false_abstain_rate",
                "unanswerable_abstain_rate")}}
            rows.append(row)
            print(json.dumps(row), flush=True)
    best = max(rows, key=key)
    out = {"tuned_on": args.tune_on, "questions": len(idx),
           "objective": f"max hit s.t. median words <= {MAX_MEDIAN_WORDS}, false-abstain <= "
                        f"{MAX_FALSE_ABSTAIN}; tie-break first-sentence hit, fewer words",
           "fixed": {"answer_min_support": settings.answer_min_support,
                     "abstain_threshold": settings.abstain_threshold,
                     "answer_max_words": settings.answer_max_words},
           "rows": rows, "chosen": best}
    print("chosen", json.dumps(best))
    Path(args.out).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
