"""Style model cost: time per training step and per shaped answer, with the draft passthrough
(no style model active) measured in the same run as the baseline.

No database: synthetic voted interactions go straight into the dataset builder, and the
runtime's registry lookup is pointed at the freshly trained model, so the timed path is the
real ``StyleRuntime.apply`` (cache check, generate, guard). Default base: the tiny 2-layer T5
built locally; ``--base`` times a real model folder instead. Uses the GPU when one is present.

    python benchmarks/bench_finetune.py --steps 30 --answers 50 --out /tmp/bench_finetune.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.settings import load_settings  # noqa: E402
from finetune.dataset import (  # noqa: E402
    LabelledInteraction,
    Vote,
    build_examples,  # noqa: E402
)
from finetune.runtime import StyleRuntime  # noqa: E402
from finetune.train import TrainConfig, train_style_model  # noqa: E402

VERBS = ["deploy", "rotate", "restart", "archive", "invite", "tag", "expense", "book", "reset",
         "review", "order", "update", "clear", "drain", "index", "scale", "patch", "backup"]
THINGS = ["the service", "the keys", "the queue", "a channel", "a guest", "a release",
          "a taxi ride", "a room", "a password", "a design", "the cache", "the workers"]


def _interactions(n: int) -> list[LabelledInteraction]:
    out = []
    now = datetime.now(UTC)
    for i in range(n):
        verb, thing = VERBS[i % len(VERBS)], THINGS[(i // len(VERBS)) % len(THINGS)]
        draft = (f"To {verb} {thing}, open the runbook section on {verb} and follow its "
                 f"checklist step by step [1]. Ask in the team channel if a step fails [2].")
        correction = (f"Short answer: open the runbook section on {verb} and follow its checklist "
                      f"[1]. If a step fails, ask in the team channel [2].")
        votes = [Vote(value=1, signal="correction", correction=correction, at=now)] if i % 3 \
            else [Vote(value=1, signal="reaction", correction=None, at=now)]
        out.append(LabelledInteraction(
            id=uuid.uuid5(uuid.NAMESPACE_URL, f"bench-{i}"), question=f"How do I {verb} {thing}?",
            draft=draft, answer=draft, sources=[draft], abstained=False, votes=votes))
    return out


def _ms(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {"mean": round(statistics.fmean(s) * 1000, 3),
            "p50": round(s[len(s) // 2] * 1000, 3),
            "p95": round(s[min(len(s) - 1, int(len(s) * 0.95))] * 1000, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=None, help="model folder (default: tiny local T5)")
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--answers", type=int, default=50)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import torch

    from finetune.model import Rewriter

    report = build_examples(_interactions(args.examples))
    work = Path(tempfile.mkdtemp(prefix="bench-finetune-"))
    cfg = TrainConfig(base=args.base, epochs=100, max_steps=args.steps,
                      batch_size=args.batch_size, progress=False, kto=False)
    started = time.perf_counter()
    trained = train_style_model(report, out_dir=work / "model", version="bench", cfg=cfg,
                                work_dir=work / "work")
    wall = time.perf_counter() - started

    settings = load_settings(_env_file=None, lorebot_data_dir=work / "data")
    drafts = [(e.question, e.draft, e.sources) for e in report.examples][: args.answers]
    passthrough = StyleRuntime(lookup=lambda db, scope: None)
    shaped = StyleRuntime(lookup=lambda db, scope: ("bench", trained.path),
                          loader=Rewriter.load)
    db: Any = None

    def run(runtime: StyleRuntime) -> tuple[list[float], int]:
        runtime.apply(enabled=settings.style_model_enabled, db=db, draft=drafts[0][1], question=drafts[0][0],
                      passages=drafts[0][2], channel=None)  # warm-up: model load, cache
        times, rejected = [], 0
        for question, draft, sources in drafts:
            t = time.perf_counter()
            res = runtime.apply(enabled=settings.style_model_enabled, db=db, draft=draft, question=question,
                                passages=sources, channel=None)
            times.append(time.perf_counter() - t)
            rejected += res.rejected is not None
        return times, rejected

    base_times, _ = run(passthrough)
    shaped_times, rejected = run(shaped)
    result = {
        "benchmark": "finetune",
        "device": "cuda" if torch.cuda.is_available() else "cpu",
        "torch_threads": torch.get_num_threads(),
        "base": trained.base, "kind": trained.kind, "lora": trained.lora,
        "train_examples": len(report.split("train")),
        "batch_size": args.batch_size,
        "train_steps": trained.steps,
        "train_seconds": round(trained.seconds, 3),
        "seconds_per_train_step": round(trained.seconds / max(1, trained.steps), 4),
        "train_wall_seconds_incl_build_and_save": round(wall, 3),
        "shaped_answer_ms": _ms(shaped_times),
        "baseline_draft_passthrough_ms": _ms(base_times),
        "answers": len(drafts),
        "guard_rejected": rejected,
        "plot": str(trained.plot),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
