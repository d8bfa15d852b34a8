"""Ingest throughput on a BEIR corpus, against bare embedding measured in the same run.

1. A throw-away embedded database (temporary LOREBOT_DATA_DIR) gets the corpus as a ``jsonl``
   source; ``ingest_source`` runs end to end (read, clean/redact, chunk, cache, embed, COPY into
   the HNSW-indexed table). Reported: chunks/s and the share of time inside the model.
2. Baseline: the very chunk texts that were stored, embedded by a bare batched transformers
   loop (AutoModel + mean pooling, batch 32, same precision and truncation, no sorting, no
   database). Target: pipeline chunks/s >= 85% of the baseline's.
3. Re-ingest of the unchanged corpus: seconds and embeddings computed. Target: < 3% of the first
   ingest's time and zero embeddings.

    python benchmarks/bench_ingest.py [--limit 800] [--corpus ../shared/eval/scifact-train/corpus.jsonl]

Without ``--limit`` the whole corpus (SciFact: 5,183 abstracts) goes through: tens of minutes
on 2 shared cores (the pipeline, then the baseline over the same chunks), so it is a
benchmark, never a test. The baseline runs in the embedder's runtime and precision (auto's
choice unless EMBEDDING_RUNTIME/EMBEDDING_PRECISION say otherwise).

Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared/eval/scifact-train/corpus.jsonl"


def bare_embed(embedder: Any, texts: list[str], *, batch_size: int) -> float:
    """Seconds for a plain batched loop over ``texts`` in the embedder's runtime and precision
    (the baseline): tokenise, forward, mean-pool, normalise; no sorting, no cache, no database.
    PyTorch loads its own copy of the model; ONNX Runtime reuses the embedder's exported
    session (exporting is the runtime's setup, not part of the loop)."""
    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(embedder.path, local_files_only=True)
    onnx = getattr(embedder, "_onnx", None)
    model = None if onnx is not None else AutoModel.from_pretrained(
        embedder.path, local_files_only=True).eval()
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            part = texts[i : i + batch_size]
            if onnx is not None:
                batch = tok(part, padding=True, truncation=True, max_length=embedder.max_tokens,
                            return_tensors="np")
                hidden = onnx(batch)
                mask = batch["attention_mask"][..., None].astype(np.float32)
                pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
                pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
                continue
            batch = tok(part, padding=True, truncation=True, max_length=embedder.max_tokens,
                        return_tensors="pt")
            if embedder.precision == "bf16":
                with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
                    hidden = model(**batch).last_hidden_state
            else:
                hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            torch.nn.functional.normalize(pooled.float(), p=2, dim=1)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--limit", type=int, default=0, help="only the first N documents (0: all)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from sqlalchemy import text

    from bot.ingest import ingest_source
    from bot.runtime import open_database
    from bot.settings import load_settings
    from bot.sources import add_source
    from knowledge.embeddings import Embedder

    work = Path(tempfile.mkdtemp(prefix="lorebot-bench-ingest-"))
    os.chmod(work, 0o755)
    corpus = work / "corpus.jsonl"
    with open(args.corpus, encoding="utf-8") as src, open(corpus, "w", encoding="utf-8") as dst:
        for n, line in enumerate(src):
            if args.limit and n >= args.limit:
                break
            dst.write(line)
    docs = n + 1 if not args.limit else min(args.limit, n + 1)

    settings = load_settings(_env_file=None, lorebot_data_dir=work / "data", database_url=None)
    t = time.perf_counter()
    db = open_database(settings)
    db_start_s = time.perf_counter() - t
    # The runtime and precision the bot would use here (EMBEDDING_RUNTIME/PRECISION; auto
    # measures), and the baseline loop below runs in the same one.
    embedder = Embedder(settings.embedding_model, batch_size=settings.embedding_batch_size,
                        max_tokens=settings.embedding_max_tokens, precision=settings.embedding_precision,
                        runtime=settings.embedding_runtime)
    add_source(db=db, settings=settings, name="scifact", location=str(corpus), kind="jsonl")

    first = ingest_source(db=db, settings=settings, name="scifact", embedder=embedder,
                          progress=sys.stderr.isatty())
    with db.session() as session:
        texts = list(session.execute(text("SELECT text FROM chunks ORDER BY id")).scalars())
    baseline_s = bare_embed(embedder, texts, batch_size=32)
    second = ingest_source(db=db, settings=settings, name="scifact", embedder=embedder)

    chunks = first.chunks_written
    pipeline_cps = chunks / first.seconds if first.seconds else 0.0
    bare_cps = len(texts) / baseline_s if baseline_s else 0.0
    out: dict[str, Any] = {
        "corpus": str(args.corpus),
        "documents": docs,
        "model": embedder.model_id,
        "precision": embedder.precision,
        "runtime": embedder.runtime,
        "runtime_choice": embedder.choice.reason,
        "cpu_count": os.cpu_count(),
        "load_1min_at_end": None,
        "chunk_size_tokens": settings.chunk_size_tokens,
        "database_start_s": round(db_start_s, 2),
        "first_ingest": {
            "status": first.status,
            "added": first.added, "failed": first.failed, "chunks": chunks,
            "seconds": first.seconds,
            "chunks_per_s": round(pipeline_cps, 2),
            "embeddings_computed": first.embeddings_computed,
            "embed_share": round(first.timings.get("embed", 0.0) / first.seconds, 3) if first.seconds else 0,
            "timings_s": {k: round(v, 2) for k, v in first.timings.items()},
        },
        "baseline_bare_transformers": {
            "texts": len(texts), "seconds": round(baseline_s, 2), "chunks_per_s": round(bare_cps, 2),
            "batch_size": 32,
        },
        "pipeline_vs_bare": round(pipeline_cps / bare_cps, 3) if bare_cps else None,
        # Robust to a noisy machine: the share of the ingest spent outside the model, and how
        # the pipeline's own model calls (length-sorted batches) compare with the bare loop.
        "non_model_share": round(1 - first.timings.get("embed", 0.0) / first.seconds, 3)
        if first.seconds else None,
        "model_calls_vs_bare": round(baseline_s / first.timings["embed"], 3)
        if first.timings.get("embed") else None,
        "target_pipeline_vs_bare": 0.85,
        "reingest_unchanged": {
            "status": second.status,
            "seconds": second.seconds,
            "unchanged": second.unchanged,
            "embeddings_computed": second.embeddings_computed,
            "share_of_first": round(second.seconds / first.seconds, 4) if first.seconds else None,
            "target_share": 0.03,
        },
        "errors_sample": first.errors[:3],
    }
    out["load_1min_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=2))
    db.dispose()
    if not args.keep:
        import shutil

        from bot.db import embedded

        server = embedded._servers.pop((work / "data").resolve(), None)  # noqa: SLF001
        if server is not None:
            server.cleanup()  # stop the throw-away server before deleting its folder
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
