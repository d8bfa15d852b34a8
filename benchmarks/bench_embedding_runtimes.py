"""The three ways to compute MiniLM's vectors on this CPU, side by side, in one run.

For PyTorch fp32, PyTorch bf16 (autocast) and ONNX Runtime fp32, each set explicitly:
question latency (SciFact claims one at a time, after warm-up: p50/p95), batch throughput
(the first ``--docs`` abstracts, title + text, the embedder's length-sorted batches of 32),
the vectors' cosine to PyTorch fp32 on those abstracts, and the load time. Also what
``auto`` picks here and what its probe costs at load, uncached and cached. Options are
measured in rotation (round-robin over slices of the questions) so a change in the machine's
load during the run hits all three alike. nDCG@10 comes from ``bench_retrieval.py quality``
runs with EMBEDDING_RUNTIME/EMBEDDING_PRECISION set (the corpus embedded in that precision).

    python benchmarks/bench_embedding_runtimes.py --questions 200 --docs 512
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from knowledge.embeddings import Embedder, cpu_supports_bf16  # noqa: E402
from knowledge.evaluation import document_text, load_beir, percentile  # noqa: E402

OPTIONS = (("torch", "fp32"), ("torch", "bf16"), ("onnx", "fp32"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/eval/scifact-train")
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--docs", type=int, default=512)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=4, help="rotations over the three options")
    args = ap.parse_args()
    data = load_beir(args.data, split="train")
    questions = list(data.queries.values())
    warm, questions = questions[: args.warmup], questions[args.warmup : args.warmup + args.questions]
    docs = [document_text(d["title"], d["text"]) for d in list(data.corpus.values())[: args.docs]]

    embedders: dict[str, Embedder] = {}
    load_s: dict[str, float] = {}
    for runtime, precision in OPTIONS:
        label = f"{runtime} {precision}"
        t0 = time.perf_counter()
        embedders[label] = Embedder(runtime=runtime, precision=precision)
        load_s[label] = round(time.perf_counter() - t0, 2)
        assert (embedders[label].runtime, embedders[label].precision) == (runtime, precision)
        embedders[label].embed(warm)  # warm-up: lazy init, allocator, thread pools
        for q in warm:
            embedders[label].embed_query(q)

    q_ms: dict[str, list[float]] = {label: [] for label in embedders}
    batch_s: dict[str, float] = dict.fromkeys(embedders, 0.0)
    doc_vectors: dict[str, list[np.ndarray]] = {label: [] for label in embedders}
    q_slices = np.array_split(np.arange(len(questions)), args.rounds)
    d_slices = np.array_split(np.arange(len(docs)), args.rounds)
    for qs, ds in zip(q_slices, d_slices, strict=True):
        for label, e in embedders.items():
            for i in qs:
                t0 = time.perf_counter()
                e.embed_query(questions[i])
                q_ms[label].append((time.perf_counter() - t0) * 1000)
            part = [docs[i] for i in ds]
            t0 = time.perf_counter()
            doc_vectors[label].append(e.embed(part, batch_size=32))
            batch_s[label] += time.perf_counter() - t0
    ref = np.concatenate(doc_vectors["torch fp32"])
    ref_q = embedders["torch fp32"].embed(questions)
    rows = {}
    for label, e in embedders.items():
        vecs = np.concatenate(doc_vectors[label])
        cos = np.sum(ref * vecs, axis=1)
        qcos = np.sum(ref_q * e.embed(questions), axis=1)
        rows[label] = {
            "question_ms": {"p50": round(percentile(q_ms[label], 50), 2),
                            "p95": round(percentile(q_ms[label], 95), 2)},
            "batch_docs_per_s": round(len(docs) / batch_s[label], 2),
            "cosine_to_torch_fp32": {"docs_min": round(float(cos.min()), 6),
                                     "docs_mean": round(float(cos.mean()), 6),
                                     "questions_min": round(float(qcos.min()), 6)},
            "load_s": load_s[label],
            "fingerprint": e.fingerprint,
        }
    # What auto picks here, and what choosing costs at load (uncached, then from the cache).
    cache = Path(tempfile.mkdtemp()) / "embedding-runtime.json"
    t0 = time.perf_counter()
    auto = Embedder(runtime="auto", precision="auto", choice_cache=cache)
    auto_uncached_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    cached = Embedder(runtime="auto", precision="auto", choice_cache=cache)
    auto_cached_s = time.perf_counter() - t0
    out = {
        "cpu_native_bf16": cpu_supports_bf16(), "cpu_count": os.cpu_count(),
        "load_1min_at_end": round(os.getloadavg()[0], 2),
        "questions": len(questions), "docs": len(docs), "rounds": args.rounds,
        "options": rows,
        "auto": {"chose": f"{auto.runtime} {auto.precision}", "reason": auto.choice.reason,
                 "load_s_uncached": round(auto_uncached_s, 2),
                 "load_s_cached": round(auto_cached_s, 2),
                 "cached_chose": f"{cached.runtime} {cached.precision}"},
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
