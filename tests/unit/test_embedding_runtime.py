"""The embedder's ONNX Runtime path: same vectors as PyTorch, checked at load, with fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge import embeddings, onnx_encoder
from knowledge.embedding_runtime import Option
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
    # An explicit runtime wins on every CPU: ONNX computes fp32 even where bf16 is native.
    fast = Embedder("all-MiniLM-L6-v2", runtime="onnx")
    slow = Embedder("all-MiniLM-L6-v2", runtime="torch", precision="fp32")
    assert (fast.runtime, slow.runtime) == ("onnx", "torch")
    assert fast.precision == slow.precision == "fp32"
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


@pytest.mark.parametrize("native_bf16", [True, False], ids=["bf16-cpu", "no-bf16-cpu"])
def test_auto_measures_what_the_cpu_offers(monkeypatch, native_bf16):
    """Both kinds of CPU by setting: bf16 is timed only where the CPU has it natively, and
    auto picks one of the measured options (which one depends on this machine's timings)."""
    monkeypatch.setattr(embeddings, "cpu_supports_bf16", lambda: native_bf16)
    e = Embedder("all-MiniLM-L6-v2", runtime="auto", precision="auto")
    measured = {m.option for m in e.choice.measured}
    expected = {Option("torch", "fp32")}
    if native_bf16:
        expected.add(Option("torch", "bf16"))
    if onnx_encoder.available():
        expected.add(Option("onnx", "fp32"))
    assert measured == expected
    assert e.choice.option in measured
    assert (e.runtime, e.precision) == (e.choice.option.runtime, e.choice.option.precision)
    # whatever was chosen makes the reference's vectors (cosine >= 0.999 to PyTorch fp32)
    ref = Embedder("all-MiniLM-L6-v2", runtime="torch", precision="fp32")
    assert np.min(np.sum(e.embed(TEXTS) * ref.embed(TEXTS), axis=1)) >= 0.999


def test_explicit_precision_and_runtime_are_not_second_guessed(monkeypatch):
    monkeypatch.setattr(embeddings, "cpu_supports_bf16", lambda: False)  # bf16 would be emulated
    e = Embedder("all-MiniLM-L6-v2", runtime="auto", precision="bf16")
    assert (e.runtime, e.precision, e.model_id) == ("torch", "bf16", "all-MiniLM-L6-v2@bf16")
    assert e.choice.measured == []  # nothing to choose between: no probe cost at load
    assert e.fingerprint == "all-MiniLM-L6-v2|384|bf16"
    with pytest.raises(ValueError, match="onnx computes in fp32 only"):
        Embedder("all-MiniLM-L6-v2", runtime="onnx", precision="bf16")
    with pytest.raises(ValueError, match="auto, fp32 or bf16"):
        Embedder("all-MiniLM-L6-v2", precision="fp16")


@pytest.mark.skipif(not onnx_encoder.available(), reason="lorebot[onnx] not installed")
def test_auto_choice_is_cached_per_machine(tmp_path, monkeypatch):
    cache = tmp_path / "embedding-runtime.json"
    first = Embedder("all-MiniLM-L6-v2", precision="fp32", runtime="auto", choice_cache=cache)
    assert cache.is_file() and not first.choice.from_cache
    assert {m.option.runtime for m in first.choice.measured} == {"torch", "onnx"}

    def no_timing(*a, **k):
        raise AssertionError("a cached choice must not be measured again")

    monkeypatch.setattr(Embedder, "_measure", no_timing)
    second = Embedder("all-MiniLM-L6-v2", precision="fp32", runtime="auto", choice_cache=cache)
    assert second.choice.from_cache
    assert (second.runtime, second.precision) == (first.runtime, first.precision)
