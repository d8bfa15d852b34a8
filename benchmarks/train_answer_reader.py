"""Train lorebot's answer reader (knowledge/synthesis/reader.py) and say how long it took.

Data: the reading-comprehension paragraphs written for lorebot (``datasets/answer-reader/``, invented
subjects, see its README) plus the SQuAD 2.0 article(s) named by ``--squad-article`` from
``../shared/eval/squad2-dev``; the other article stays held out for benchmarks/calibrate_reader.py.

    PYTHONPATH=$PWD HF_HUB_OFFLINE=1 python benchmarks/train_answer_reader.py \\
        --out knowledge/synthesis/reader_weights --squad-article Normans

The shipped reader took three runs: the first (commit ef2483c: parts 1-14, ``--perturb 0``, 938
steps, 24 min) from MiniLM, then ``--init`` that reader ``--lr 5e-5`` on parts 1-16 with the
edited unanswerables (``--perturb 1``, 1,378 steps, 25 min on 2 cores), then the same again once
inputs kept their context (``reader.encode``; commit 1ae8b1a, 23 min). One run of the second
kind from MiniLM did worse on the lead sentence (benchmarks/answers_reader2_variants.json).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from knowledge.synthesis.reader_perturb import with_perturbations  # noqa: E402
from knowledge.synthesis.reader_training import (  # noqa: E402
    load_records,
    pairs_for,
    records_from_squad,
    summary,
    train,
)

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=ROOT / "datasets" / "answer-reader")
    p.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "eval" / "squad2-dev")
    p.add_argument("--squad-article", action="append", default=[],
                   help="a squad2-dev article to train on (repeatable); the rest stay held out")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--distractors", type=int, default=2)
    p.add_argument("--max-negatives", type=int, default=4,
                   help="in-paragraph negatives per question (the hardest); -1: all")
    p.add_argument("--perturb", type=float, default=1.0,
                   help="share of answerable questions that also get an edited, unanswerable "
                        "copy (knowledge/synthesis/reader_perturb.py); 0: none")
    p.add_argument("--init", type=Path, default=None,
                   help="continue training this reader folder instead of starting from MiniLM")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    files = sorted(args.data.glob("*.jsonl"))
    if not files:
        sys.exit(f"no *.jsonl in {args.data}")
    records = load_records(files)
    if args.squad_article:
        records += records_from_squad(args.squad, args.squad_article)
    if args.perturb > 0:
        records = with_perturbations(records, rate=args.perturb, seed=args.seed)
    pairs = pairs_for(records, distractors=args.distractors, seed=args.seed,
                      max_negatives=None if args.max_negatives < 0 else args.max_negatives)
    print(json.dumps({"records": summary(records), "pairs": len(pairs),
                      "positives": sum(x.label for x in pairs)}), flush=True)
    t0 = time.perf_counter()

    def progress(step: int, steps: int, loss: float) -> None:
        if step % 20 == 0 or step == steps:
            eta = (time.perf_counter() - t0) / step * (steps - step)
            print(f"step {step}/{steps}  loss {loss:.4f}  eta {eta / 60:.1f} min", flush=True)

    trained_on = [f"datasets/answer-reader ({len(files)} files)"] + \
        [f"squad2-dev:{a}" for a in args.squad_article] + \
        ([f"edited unanswerable copies of {args.perturb:.0%} of the answerable questions"]
         if args.perturb > 0 else [])
    report = train(pairs, args.out, layers=args.layers, epochs=args.epochs, lr=args.lr,
                   seed=args.seed, trained_on=trained_on, progress=progress, init=args.init)
    print(json.dumps({"steps": report.steps, "minutes": round(report.seconds / 60, 1),
                      "cores": os.cpu_count(), "final_loss": round(
                          sum(report.losses[-50:]) / len(report.losses[-50:]), 4)}))


if __name__ == "__main__":
    main()
