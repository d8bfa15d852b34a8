"""The embedder's ONNX Runtime path: same vectors as PyTorch, checked at load, with fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge import onnx_encoder
from knowledge.embeddings import Embedder, ModelNotFound

TEXTS = ["short", "How do I roll back a bad deploy on Friday?",
         "A much longer text about deployments, rollbacks, error E4127 and on-call pages. " * 8]


def _unit(rows: list[list[float]]) -> np.ndarray:
    x = np.asarray(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_agreement_check_catches_different_vectors():
    same = _unit([[1, 0, 0], [0, 1, 0]])
    tilted = _unit([[1, 0.2, 0], [0, 1, 0]])  # cosine 0.98 on the first row
    assert onnx_encoder.agrees(lambda t: same, lambda t: same + 1e-7)
    assert not onnx_encoder.agrees(lambda t: same, lambda t: tilted)
    assert not onnx_encoder.agrees(lambda t: same, lambda t: same[:1])


@pytest.mark.skipif(not onnx_encoder.available(), reason="lorebot[onnx] not installed")
def test_onnx_runtime_gives_pytorchs_vectors():
    fast = Embedder("all-MiniLM-L6-v2", runtime="onnx")
    slow = Embedder("all-MiniLM-L6-v2", runtime="torch")
    assert (fast.runtime, slow.runtime) == ("onnx", "torch")
    a, b = fast.embed(TEXTS, batch_size=3), slow.embed(TEXTS, batch_size=3)  # one padded batch
    assert a.shape == b.shape == (3, 384)
    assert np.min(np.sum(a * b, axis=1)) > 0.9999
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert fast.model_id == slow.model_id  # the embedding cache is shared between the two


@pytest.mark.skipif(not onnx_encoder.available(), reason="lorebot[onnx] not installed")
def test_disagreeing_export_stays_on_pytorch(monkeypatch):
    monkeypatch.setattr(onnx_encoder, "agrees", lambda *a, **k: False)
    assert Embedder("all-MiniLM-L6-v2", runtime="auto").runtime == "torch"


def test_failed_export_stays_on_pytorch(monkeypatch):
    monkeypatch.setattr(onnx_encoder, "available", lambda: True)

    def broken(*args, **kwargs):
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(onnx_encoder.OnnxEncoder, "export", classmethod(broken))
    assert Embedder("all-MiniLM-L6-v2", runtime="auto").runtime == "torch"
    with pytest.raises(ValueError, match="auto, torch or onnx"):
        Embedder("all-MiniLM-L6-v2", runtime="tensorrt")


def test_explicit_onnx_without_the_package_says_what_to_install(monkeypatch):
    monkeypatch.setattr(onnx_encoder, "available", lambda: False)
    with pytest.raises(ModelNotFound, match=r"lorebot\[onnx\]"):
        Embedder("all-MiniLM-L6-v2", runtime="onnx")
    assert Embedder("all-MiniLM-L6-v2", runtime="auto").runtime == "torch"
