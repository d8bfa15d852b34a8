"""The answer reader's cost per answer: synthesis time with fp32 and int8 ONNX Runtime, by how many
candidates it reads, against the reader-off synthesiser, on the same questions in one run.

The passages are the ones the answering service retrieved for each question
(calibrate_answers.py's collection, built on first use); only synthesis is timed, as the
issue's "synthesis adds <= 30 ms p95" asks.

    PYTHONPATH=$PWD HF_HUB_OFFLINE=1 python benchmarks/bench_reader_latency.py \\
        --out benchmarks/answers_reader2_latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.calibrate_answers import (  # noqa: E402
    collect,
    collection_arguments,
    on_article,
    synthesis_latency,
)
from bot.settings import load_settings  # noqa: E402
from knowledge.answer_eval import load_qa  # noqa: E402
from knowledge.synthesis.extractive import ExtractiveSynthesizer, ReaderPolicy  # noqa: E402
from knowledge.synthesis.reader import BUILTIN, AnswerReader  # noqa: E402


def timed(run: Callable[[Any], Any], items: Sequence[Any]) -> dict[str, float]:
    """p50/p95 ms of ``run`` per item, after a warm-up on the first ten (the quantisation
    benchmark times its variants with it too)."""
    for item in items[:10]:
        run(item)
    times = []
    for item in items:
        t0 = time.perf_counter()
        run(item)
        times.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": round(float(np.percentile(times, 50)), 1),
            "p95_ms": round(float(np.percentile(times, 95)), 1)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reader", default=str(BUILTIN))
    p.add_argument("--article", default="Computational complexity theory")
    p.add_argument("--candidates", default="4,6,8")
    p.add_argument("--n", type=int, default=200)
    collection_arguments(p)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    got = collect(args)
    data = load_qa(args.data)
    kept = on_article(got, data, args.article)[:args.n]
    items = [(o.question.question, ps) for o, ps in kept]
    result: dict[str, Any] = {"reader": args.reader, "article": args.article,
                              "questions": len(items), "cores": os.cpu_count(), "runs": []}
    # Baseline: ANSWER_READER=off, the embedding scorer, every sentence embedded (cold) or its
    # vector cached from an earlier answer (warm), timed as calibrate_answers.py times it.
    settings = load_settings(_env_file=None, lorebot_data_dir=args.data_dir, database_url=None)
    off = synthesis_latency([o for o, _ in kept], [ps for _, ps in kept], settings, n=len(kept))
    result["reader_off_cold"], result["reader_off_warm"] = off["cold"], off["warm"]
    for int8 in (False, True):
        reader = AnswerReader.load(args.reader, runtime="onnx", int8=int8)
        for k in (int(x) for x in args.candidates.split(",")):
            policy = ReaderPolicy(**{**reader.policy().__dict__, "candidates": k})
            synth = ExtractiveSynthesizer(reader=reader.score, reader_policy=policy,
                                          max_sentences=2)
            row = {"int8": reader.int8, "candidates": k,
                   **timed(lambda item, s=synth: s.synthesize(*item), items),
                   "load_average": round(os.getloadavg()[0], 2)}
            result["runs"].append(row)
            print(json.dumps(row), flush=True)
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
