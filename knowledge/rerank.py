"""Optional cross-encoder re-ranking, behind ``RERANKER_MODEL``.

Off when the setting is empty or the model cannot be loaded offline: that is logged once and
retrieval carries on with the fused order, because a missing re-ranker must never stop answers.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from typing import Any

from knowledge.store.search import SearchHit

log = logging.getLogger(__name__)


class CrossEncoderReranker:
    def __init__(self, model: str) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from knowledge.embeddings import resolve_model_path

        path = resolve_model_path(model)
        self.name = model
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True)
        self.model.eval()
        self._torch = torch
        self._lock = threading.Lock()

    def scores(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        with self._lock, self._torch.inference_mode():
            batch = self.tokenizer([query] * len(texts), list(texts), padding=True, truncation=True,
                                   max_length=512, return_tensors="pt")
            logits = self.model(**batch).logits
            out = logits[:, -1] if logits.shape[-1] > 1 else logits[:, 0]
            return [float(x) for x in out]

    def rerank(self, query: str, hits: Sequence[SearchHit], *, top_k: int) -> list[SearchHit]:
        scored = sorted(zip(self.scores(query, [h.text for h in hits]), range(len(hits)), hits,
                            strict=True), key=lambda t: (-t[0], t[1]))
        return [h for _, _, h in scored[:top_k]]


_warned: set[str] = set()
_lock = threading.Lock()


@functools.lru_cache(maxsize=2)
def _load(model: str) -> CrossEncoderReranker | None:
    try:
        return CrossEncoderReranker(model)
    except Exception as exc:  # any load failure means "no re-ranker", never a failed answer
        with _lock:
            if model not in _warned:
                _warned.add(model)
                log.warning("re-ranker %r could not be loaded offline (%s); answering without it",
                            model, exc.__class__.__name__)
        return None


def reranker_from_settings(settings: Any) -> CrossEncoderReranker | None:
    name = (getattr(settings, "reranker_model", None) or "").strip()
    return _load(name) if name else None
