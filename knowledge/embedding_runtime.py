"""Which runtime and precision compute the embeddings: chosen by measurement, not by CPU flag.

Three options make MiniLM's vectors on a CPU: PyTorch fp32 (the reference), PyTorch with bf16
autocast (fast only where the CPU has AVX512-BF16 or AMX) and ONNX Runtime fp32. Which one is
fastest depends on the CPU, its load and the library versions, so ``auto`` times a question
and a small batch on each candidate at load and keeps the fastest one whose vectors agree with
PyTorch fp32 (cosine >= :data:`MIN_COSINE` on every probe text). An explicit setting is never
second-guessed. The pure choice logic lives here (tests inject measurements); the
:class:`~knowledge.embeddings.Embedder` does the measuring. A per-machine cache file lets
the next process skip the timing (the agreement check still runs on every load).
"""

from __future__ import annotations

import json
import logging
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "bf16")
RUNTIMES = ("auto", "torch", "onnx")
# bf16 keeps ~3 significant digits per activation: measured cosine 0.9990-0.9998 to fp32 on
# MiniLM. Below this a vector is not "the same vector" and the option is not eligible.
MIN_COSINE = 0.999
# Timings within this fraction of each other are a tie: a question's embedding on a loaded
# 2-core machine varies by 10-20% from one probe to the next.
MARGIN = 0.15
CACHE_VERSION = 1


@dataclass(frozen=True, order=True)
class Option:
    runtime: str
    precision: str

    @property
    def label(self) -> str:
        return f"{self.runtime} {self.precision}"


REFERENCE = Option("torch", "fp32")
ALL_OPTIONS = (REFERENCE, Option("torch", "bf16"), Option("onnx", "fp32"))


@dataclass
class Measurement:
    """One option on the probe: median question latency, batch cost per text, cosine to fp32."""

    option: Option
    question_ms: float | None = None
    batch_ms_per_text: float | None = None
    cosine: float | None = None
    error: str | None = None

    def eligible(self, min_cosine: float = MIN_COSINE) -> bool:
        return (self.error is None and self.question_ms is not None and self.cosine is not None
                and self.cosine >= min_cosine)

    def describe(self) -> str:
        if self.error:
            return f"{self.option.label}: {self.error}"
        parts = [self.option.label]
        if self.question_ms is not None:
            parts.append(f"question {self.question_ms:.1f} ms")
        if self.batch_ms_per_text is not None:
            parts.append(f"batch {self.batch_ms_per_text:.1f} ms/text")
        if self.cosine is not None:
            parts.append(f"cosine {self.cosine:.5f}")
        return ", ".join(parts)


@dataclass
class Choice:
    """What computes the vectors, why, and what was measured (empty when set explicitly)."""

    option: Option
    reason: str
    measured: list[Measurement] = field(default_factory=list)
    from_cache: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"runtime": self.option.runtime, "precision": self.option.precision,
                "reason": self.reason, "from_cache": self.from_cache,
                "measured": [{**asdict(m), "option": m.option.label} for m in self.measured]}


def validate(precision: str, runtime: str) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"EMBEDDING_PRECISION must be auto, fp32 or bf16, not {precision!r}")
    if runtime not in RUNTIMES:
        raise ValueError(f"EMBEDDING_RUNTIME must be auto, torch or onnx, not {runtime!r}")
    if runtime == "onnx" and precision == "bf16":
        raise ValueError("EMBEDDING_RUNTIME=onnx computes in fp32 only: set EMBEDDING_PRECISION "
                         "to fp32 or auto, or EMBEDDING_RUNTIME to torch or auto")


def candidates(precision: str, runtime: str, *, device: str, bf16_cpu: bool,
               onnx_available: bool) -> list[Option]:
    """The options ``auto`` may pick among, explicit settings narrowing them (never widened).

    bf16 is a candidate under ``auto`` only on CPUs with native bf16 (elsewhere autocast
    emulates it, several times slower, and timing it would only lengthen the load); an
    explicit ``bf16`` is honoured anywhere. ONNX is a candidate only when installed.
    """
    validate(precision, runtime)
    if device != "cpu":  # GPUs: PyTorch; ONNX Runtime here is the CPU build
        return [Option("torch", "fp32" if precision == "auto" else precision)]
    out = []
    for opt in ALL_OPTIONS:
        if runtime != "auto" and opt.runtime != runtime:
            continue
        if precision != "auto" and opt.precision != precision:
            continue
        if precision == "auto" and opt.precision == "bf16" and not bf16_cpu:
            continue
        if opt.runtime == "onnx" and not onnx_available:
            continue
        out.append(opt)
    return out or [REFERENCE]


def choose(measured: Sequence[Measurement], *, min_cosine: float = MIN_COSINE,
           margin: float = MARGIN) -> Choice:
    """The fastest eligible option: question latency first, then batch cost, then fp32.

    Questions are embedded one at a time while someone waits, batches during ingest in the
    background, so question latency decides; options within ``margin`` of the fastest are a
    tie (a loaded machine's timing noise), broken by the batch cost (same margin), and a tie
    left after that goes to fp32: the reference vectors, which every CPU can make at full
    speed (a replica without native bf16 could not make bf16 vectors fast). The reference
    (PyTorch fp32) is always eligible, so there is always a choice.
    """
    ok = [m for m in measured if (m.eligible(min_cosine) or m.option == REFERENCE)
          and m.error is None and m.question_ms is not None]
    if not ok:
        return Choice(REFERENCE, "no option could be measured; PyTorch fp32 is the reference",
                      list(measured))
    best_q = min(m.question_ms for m in ok if m.question_ms is not None)
    tied = [m for m in ok if (m.question_ms or 0.0) <= best_q * (1 + margin)]
    best_b = min(m.batch_ms_per_text or 0.0 for m in tied)
    tied = [m for m in tied if (m.batch_ms_per_text or 0.0) <= best_b * (1 + margin)]
    best = min(tied, key=lambda m: (m.option.precision != "fp32", m.question_ms, m.option))
    rejected = [m for m in measured if m not in ok]
    why = (f"auto chose {best.option.label} (question latency first, ties within "
           f"{margin:.0%} go to the batch cost, then to fp32); measured: "
           + "; ".join(m.describe() for m in ok))
    if rejected:
        why += f"; not eligible: {'; '.join(_rejection(m, min_cosine) for m in rejected)}"
    return Choice(best.option, why, list(measured))


def _rejection(m: Measurement, min_cosine: float) -> str:
    if m.error:
        return f"{m.option.label} ({m.error})"
    return f"{m.option.label} (cosine {m.cosine:.5f} < {min_cosine})"


def machine_key(model: str, max_tokens: int, options: Sequence[Option]) -> str:
    """What the measured speeds depend on: CPU, cores, library versions, model, options."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for mod in ("torch", "onnxruntime"):
        try:
            versions.append(f"{mod}={__import__(mod).__version__}")
        except ImportError:
            versions.append(f"{mod}=none")
    opts = ",".join(o.label for o in options)
    return f"v{CACHE_VERSION}|{cpu}|{os.cpu_count()}|{'|'.join(versions)}|{model}|{max_tokens}|{opts}"


def cached_choice(path: Path | None, key: str) -> Choice | None:
    """A choice measured earlier on this machine for the same key, if the cache has one."""
    if path is None or not path.is_file():
        return None
    try:
        entry = json.loads(path.read_text()).get(key)
        if not entry:
            return None
        return Choice(Option(entry["runtime"], entry["precision"]),
                      f"{entry['reason']} (measured {entry.get('at', 'earlier')}, cached in {path})",
                      from_cache=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged cache only costs a new measurement


def store_choice(path: Path | None, key: str, choice: Choice, when: str) -> None:
    if path is None:
        return
    try:
        data = json.loads(path.read_text()) if path.is_file() else {}
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data[key] = {**choice.to_json(), "at": when}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(path)
    except OSError as exc:  # read-only data dir: measure again next time
        log.info("could not cache the embedding runtime choice in %s: %s", path, exc)
