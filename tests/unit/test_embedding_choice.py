"""The auto runtime/precision choice, on injected measurements (no model, no timing)."""

from __future__ import annotations

import pytest

from knowledge import embedding_runtime as er
from knowledge.embedding_runtime import Measurement, Option

T32, B16, O32 = Option("torch", "fp32"), Option("torch", "bf16"), Option("onnx", "fp32")


def m(opt: Option, q: float, b: float, cos: float = 1.0, error: str | None = None) -> Measurement:
    return Measurement(opt, question_ms=q, batch_ms_per_text=b, cosine=cos, error=error)


def test_fastest_question_wins():
    assert er.choose([m(T32, 25, 30), m(B16, 12, 10, 0.9995), m(O32, 9, 30)]).option == O32
    assert er.choose([m(T32, 25, 30), m(B16, 8, 10, 0.9995), m(O32, 12, 30)]).option == B16


def test_bf16_that_changes_the_vectors_is_not_eligible():
    choice = er.choose([m(T32, 25, 30), m(B16, 5, 5, cos=0.998), m(O32, 20, 30)])
    assert choice.option == O32
    assert "not eligible: torch bf16 (cosine 0.99800 < 0.999)" in choice.reason


def test_question_tie_goes_to_batch_cost_then_to_fp32():
    # within 15% on questions: the much cheaper batch decides
    assert er.choose([m(T32, 25, 30), m(B16, 10.8, 18.8, 0.99998), m(O32, 10.7, 41.8)]).option == B16
    # tie on both: fp32, the vectors every CPU makes at full speed
    assert er.choose([m(T32, 25, 30), m(B16, 10.0, 20.0, 0.9999), m(O32, 10.5, 21.0)]).option == O32


def test_failed_or_missing_measurements_fall_back_to_the_reference():
    assert er.choose([m(T32, 25, 30), Measurement(O32, error="export failed")]).option == T32
    assert er.choose([Measurement(T32, error="x")]).option == T32


@pytest.mark.parametrize("bf16_cpu", [True, False])
def test_candidates_follow_the_cpu_and_the_settings(bf16_cpu):
    auto = er.candidates("auto", "auto", device="cpu", bf16_cpu=bf16_cpu, onnx_available=True)
    assert auto == ([T32, B16, O32] if bf16_cpu else [T32, O32])
    assert er.candidates("auto", "onnx", device="cpu", bf16_cpu=bf16_cpu, onnx_available=True) == [O32]
    assert er.candidates("fp32", "auto", device="cpu", bf16_cpu=bf16_cpu, onnx_available=True) == [T32, O32]
    # an explicit bf16 is honoured even where it would be emulated
    assert er.candidates("bf16", "auto", device="cpu", bf16_cpu=bf16_cpu, onnx_available=True) == [B16]
    assert er.candidates("auto", "auto", device="cpu", bf16_cpu=bf16_cpu, onnx_available=False) == (
        [T32, B16] if bf16_cpu else [T32])
    assert er.candidates("auto", "auto", device="cuda", bf16_cpu=bf16_cpu, onnx_available=True) == [T32]


def test_invalid_combinations_say_what_to_set():
    with pytest.raises(ValueError, match="EMBEDDING_PRECISION to fp32 or auto"):
        er.validate("bf16", "onnx")
    with pytest.raises(ValueError, match="auto, torch or onnx"):
        er.validate("auto", "tensorrt")


def test_cache_round_trip_and_damaged_cache(tmp_path):
    path = tmp_path / "c.json"
    choice = er.choose([m(T32, 25, 30), m(O32, 9, 30)])
    er.store_choice(path, "k", choice, "now")
    again = er.cached_choice(path, "k")
    assert again is not None and again.option == O32 and again.from_cache
    assert er.cached_choice(path, "other machine") is None
    path.write_text("{not json")
    assert er.cached_choice(path, "k") is None
    er.store_choice(path, "k", choice, "now")  # a damaged cache is replaced, not fatal
    assert er.cached_choice(path, "k") is not None
