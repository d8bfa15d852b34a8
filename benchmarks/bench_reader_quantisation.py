"""How the answer reader could run on a CPU without AVX-512: ONNX Runtime variants of the same
weights, each timed on the held-out article's reader batches and compared with fp32's logits on
the tuning article's, in one run.

The batches are the ones the shipped synthesiser gives the reader (calibrate_answers.py's
collection: the passages the answering service retrieved for each question). Speed is what the
issue's latency target needs; agreement with fp32 (the largest and mean logit gap, and how often
the top-scored pair is fp32's top pair) is what a variant costs in ranking, measured without
looking at any held-out label. Variants:

- ``fp32``: the exported graph as it answers today when int8 is off;
- ``int8``: the shipped quantisation (``knowledge.onnx_encoder.quantized``: weights per channel,
  activations per call);
- ``int8_rows``: the same model reading each pair alone, without padding, so a pair's scale is
  its own and its score does not depend on its batch;
- ``int8_reduce_range`` / ``int8_u8_weights``: ONNX Runtime's remedies for the int16 saturation
  of its AVX2 u8s8 kernel (7-bit weights; unsigned weights);
- ``fp32_fused`` / ``int8_fused``: the transformer optimiser's fused Attention, SkipLayerNorm and
  Gelu kernels, then quantised including Attention (QAttention).

    PYTHONPATH=$PWD HF_HUB_OFFLINE=1 python benchmarks/bench_reader_quantisation.py \\
        --out benchmarks/answers_reader_quantisation_avx2.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_reader_latency import timed  # noqa: E402
from benchmarks.calibrate_answers import (  # noqa: E402
    collect,
    collection_arguments,
    on_article,
)
from knowledge.answer_eval import load_qa  # noqa: E402
from knowledge.onnx_encoder import quantized, session  # noqa: E402
from knowledge.synthesis.extractive import ExtractiveSynthesizer  # noqa: E402
from knowledge.synthesis.reader import BUILTIN, AnswerReader  # noqa: E402
from knowledge.synthesis.reader_net import OnnxReader  # noqa: E402

Feed = dict[str, np.ndarray]


def reader_batches(reader: AnswerReader, got: dict[str, Any], data: Any,
                   article: str) -> list[Feed]:
    """The tokenised batches the shipped synthesiser asks the reader to score for one article's
    questions (recorded by wrapping the reader's score)."""
    asked: list[tuple[str, list[str]]] = []

    def recording(question: str, texts: Any) -> np.ndarray:
        asked.append((question, list(texts)))
        return reader.score(question, texts)

    synth = ExtractiveSynthesizer(reader=recording, reader_policy=reader.policy(),
                                  max_sentences=2)
    for o, ps in on_article(got, data, article):
        synth.synthesize(o.question.question, ps)
    return [{k: v.numpy() for k, v in reader._tokenize(q, t).items()} for q, t in asked]


def rows_alone(run: Callable[[Feed], Any]) -> Callable[[Feed], np.ndarray]:
    """``run`` on each row by itself, its padding dropped."""
    def each(feed: Feed) -> np.ndarray:
        real = feed["attention_mask"].astype(bool)
        return np.concatenate([np.asarray(run({k: v[i:i + 1, real[i]] for k, v in feed.items()}))
                               .reshape(-1) for i in range(len(real))])
    return each


def fused(model: bytes) -> bytes:
    import onnx
    from onnxruntime.transformers import optimizer

    return optimizer.optimize_model(onnx.load_from_string(model), model_type="bert",
                                    num_heads=12, hidden_size=384,
                                    opt_level=1).model.SerializeToString()


def agreement(run: Callable[[Feed], Any], feeds: list[Feed],
              reference: list[np.ndarray]) -> dict[str, float]:
    got = [np.asarray(run(f)).reshape(-1) for f in feeds]
    gaps = [np.abs(a - b) for a, b in zip(got, reference, strict=True)]
    return {"max_gap": round(float(max(g.max() for g in gaps)), 3),
            "mean_gap": round(float(np.mean([g.mean() for g in gaps])), 3),
            "top_pair_as_fp32": round(float(np.mean(
                [np.argmax(a) == np.argmax(b) for a, b in zip(got, reference, strict=True)])), 3)}


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for row in rows:
        ax.scatter(row["p95_ms"], row["top_pair_as_fp32"], color="tab:blue")
        below = row["variant"].endswith("_fused")  # fused variants sit next to their twins
        ax.annotate(row["variant"], (row["p95_ms"], row["top_pair_as_fp32"]), fontsize=8,
                    xytext=(-30 if below else 4, -11 if below else 3), textcoords="offset points")
    ax.axvline(30, color="grey", linestyle=":", label="latency target (p95 30 ms)")
    ax.set_xlabel("reader forward pass p95, ms (held-out batches)")
    ax.set_ylabel("top pair as fp32's (tuning batches)")
    ax.set_title("Answer reader on ONNX Runtime: speed against agreement with fp32")
    ax.legend(loc="upper center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reader", default=str(BUILTIN))
    p.add_argument("--tune", default="Normans", help="agreement is measured on this article")
    p.add_argument("--article", default="Computational complexity theory",
                   help="speed is measured on this article's batches")
    collection_arguments(p)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    got = collect(args)
    data = load_qa(args.data)
    reader = AnswerReader.load(args.reader, runtime="onnx", int8=False)
    tuning = reader_batches(reader, got, data, args.tune)
    feeds = reader_batches(reader, got, data, args.article)
    # exported again: a loaded reader keeps its session, not the model's bytes
    model = OnnxReader.export(reader.model, reader._tokenize("Who?", ["It rained."])).model
    fp32 = OnnxReader(session(model))
    reference = [np.asarray(fp32(f)).reshape(-1) for f in tuning]
    from onnxruntime.quantization import QuantType

    def int8_of(graph: bytes, **options: Any) -> OnnxReader:
        return OnnxReader(session(quantized(graph, **options)))

    int8 = int8_of(model)
    fused_model = fused(model)
    variants: dict[str, Callable[[Feed], Any]] = {
        "fp32": fp32,
        "int8": int8,
        "int8_rows": rows_alone(int8),
        "int8_reduce_range": int8_of(model, reduce_range=True),
        "int8_u8_weights": int8_of(model, weight_type=QuantType.QUInt8),
        "fp32_fused": OnnxReader(session(fused_model)),
        # fused ops are outside shape inference's domain: their outputs' type must be given
        "int8_fused": int8_of(fused_model, op_types_to_quantize=["MatMul", "Attention"],
                              extra_options={"DefaultTensorType": 1}),  # FLOAT
    }
    rows = []
    for name, run in variants.items():
        row = {"variant": name, **timed(run, feeds), **agreement(run, tuning, reference),
               "load_average": round(os.getloadavg()[0], 2)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    result = {"reader": args.reader, "cores": os.cpu_count(),
              "timed_on": {"article": args.article, "batches": len(feeds)},
              "agreement_on": {"article": args.tune, "batches": len(tuning)},
              "pairs_per_batch_mean": round(float(np.mean([f["input_ids"].shape[0]
                                                           for f in feeds])), 2),
              "real_tokens_per_pair_mean": round(float(np.mean(
                  [f["attention_mask"].sum(1).mean() for f in feeds])), 1),
              "variants": rows}
    print(json.dumps(result, indent=1))
    if args.out:
        out = Path(args.out)
        out.write_text(json.dumps(result, indent=2) + "\n")
        plot(rows, out.with_suffix(".png"))


if __name__ == "__main__":
    main()
