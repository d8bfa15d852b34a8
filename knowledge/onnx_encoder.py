"""The embedding model's forward pass on ONNX Runtime: same vectors, measured 2.5x faster.

On the 2-core machine a question's embedding took p50 24 ms / p95 30 ms in PyTorch and 9.5 / 14.5
ms in ONNX Runtime, with cosine 0.9999999 between the two vectors; it was the largest part of a
question's retrieval time. The model is exported in memory when the embedder loads (about 2 s,
no file to manage) with eager attention: an export traced through the fused attention kernel
ignored the padding mask and was measured at cosine 0.91. Every export is checked against
PyTorch on a padded probe batch before it is used; a mismatch falls back to PyTorch.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PROBE = ["How do I roll back a deploy?",
         "Error E4127 means the payment gateway rejected the card token; retry with a new one."]
MIN_COSINE = 0.9999


def available() -> bool:
    try:
        import onnx  # noqa: F401 - the exporter needs it
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class OnnxEncoder:
    """``last_hidden_state`` for a tokenised batch, computed by ONNX Runtime."""

    def __init__(self, session: Any, input_names: tuple[str, ...]) -> None:
        self._session = session
        self._inputs = input_names

    @classmethod
    def export(cls, model_path: str, tokenizer: Any, *, local_files_only: bool) -> OnnxEncoder:
        import torch
        from transformers import AutoModel

        model = AutoModel.from_pretrained(model_path, attn_implementation="eager",
                                          local_files_only=local_files_only).eval()
        sample = tokenizer(PROBE, padding=True, return_tensors="pt")
        names = tuple(n for n in INPUTS if n in sample)

        class _Hidden(torch.nn.Module):
            def __init__(self, inner: Any) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, *args: Any) -> Any:
                return self.inner(**dict(zip(names, args, strict=True))).last_hidden_state

        axes = {n: {0: "batch", 1: "tokens"} for n in (*names, "last_hidden_state")}
        session = export_session(_Hidden(model), tuple(sample[n] for n in names), list(names),
                                 "last_hidden_state", axes)
        return cls(session, names)

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        feed = {n: np.asarray(batch[n], dtype=np.int64) for n in self._inputs}
        return self._session.run(None, feed)[0]


def export_onnx(module: Any, args: tuple[Any, ...], input_names: list[str], output: str,
                dynamic_axes: dict[str, dict[int, str]]) -> bytes:
    """A torch module as an ONNX model, exported in memory (no file to manage)."""
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, buffer, input_names=input_names, output_names=[output],
                          dynamic_axes=dynamic_axes, opset_version=17, dynamo=False)
    return buffer.getvalue()


def session(model: bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    # Spinning worker threads would starve a Postgres on the same cores (see knowledge/__init__).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def export_session(module: Any, args: tuple[Any, ...], input_names: list[str], output: str,
                   dynamic_axes: dict[str, dict[int, str]]) -> Any:
    """An ONNX Runtime session for a torch module, exported in memory."""
    return session(export_onnx(module, args, input_names, output, dynamic_axes))


def quantized(model: bytes, **options: Any) -> bytes:
    """``model`` with its matrix multiplications in int8 (weights per output channel,
    activations quantised per batch as they come): about half the time of fp32 on a CPU with
    VNNI, at logits within about 0.5 of fp32's. ONNX Runtime's quantiser works on files.
    ``options`` override ``quantize_dynamic``'s keywords (benchmarks/bench_reader_quantisation.py
    compares the alternatives)."""
    import tempfile
    from pathlib import Path

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = Path(tmp) / "int8.onnx"
        root = logging.getLogger()
        advice = _DropAdvice()
        root.addFilter(advice)  # the quantiser logs advice and per-tensor notes on the root logger
        try:
            quantize_dynamic(onnx.load_from_string(model), out,
                             **{"per_channel": True, "weight_type": QuantType.QInt8,
                                "op_types_to_quantize": ["MatMul"], **options})
        finally:
            root.removeFilter(advice)
        return out.read_bytes()


class _DropAdvice(logging.Filter):
    """Drops what is logged on the root logger itself (the quantiser's notes) while it runs;
    records of named loggers pass (a filter on a logger sees only that logger's records)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != "root"


def agrees(encode_a: Callable[[list[str]], np.ndarray], encode_b: Callable[[list[str]], np.ndarray],
           texts: list[str] = PROBE, min_cosine: float = MIN_COSINE) -> bool:
    """Whether two encoders give the same unit vectors for ``texts`` (cosine >= min_cosine)."""
    a, b = encode_a(texts), encode_b(texts)
    return a.shape == b.shape and bool(np.min(np.sum(a * b, axis=1)) >= min_cosine)
