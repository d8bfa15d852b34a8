"""Run every benchmark in sequence (``make bench``), each printing its own JSON line(s).

The full set takes long on a small machine (the SciFact ingest embeds 5,183 abstracts); pass
``--quick`` for a smoke run on slices. Each benchmark measures its own baseline in the same run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCIFACT = HERE.parents[1] / "shared" / "eval" / "scifact-train"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small slices, for a smoke run")
    args = ap.parse_args()
    quick = args.quick
    runs = [
        ["bench_ingest.py"] + (["--limit", "300"] if quick else []),
        ["bench_retrieval.py", "quality", "--data", str(SCIFACT)]
        + (["--limit-queries", "100"] if quick else ["--sweep"]),
        ["bench_retrieval.py", "latency"] + (["--rows", "20000", "--queries", "20"] if quick else []),
        ["bench_finetune.py"],
        ["bench_slack_ack.py"],
    ]
    failed = 0
    for argv in runs:
        print(f"# {' '.join(argv)}", file=sys.stderr, flush=True)
        rc = subprocess.call([sys.executable, str(HERE / argv[0]), *argv[1:]])
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
