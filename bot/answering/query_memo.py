"""The question's vector, computed once per answer.

The retriever embeds the (standalone) question; the extractive synthesiser compares the same
question with candidate sentences. On two cores one MiniLM pass is ~15-25 ms, as much as the
whole synthesis budget, so the service hands both the same small memo of recent query vectors.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np


class QueryVectorMemo:
    """Wraps an embedder: ``embed_query`` remembers its last ``size`` results, and ``embed``
    serves remembered texts from there (the rest in one batch). Everything else is delegated."""

    def __init__(self, embedder: Any, size: int = 64) -> None:
        self._embedder = embedder
        self._size = size
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            if text in self._memo:
                self._memo.move_to_end(text)
                return self._memo[text]
        vec = self._embedder.embed_query(text)
        with self._lock:
            self._memo[text] = vec
            while len(self._memo) > self._size:
                self._memo.popitem(last=False)
        return vec

    def embed(self, texts: Sequence[str], **kwargs: Any) -> np.ndarray:
        with self._lock:
            known = {t: self._memo[t] for t in texts if t in self._memo}
        todo = [t for t in dict.fromkeys(texts) if t not in known]
        if not known:
            return self._embedder.embed(texts, **kwargs)
        fresh = dict(zip(todo, self._embedder.embed(todo, **kwargs), strict=True)) if todo else {}
        return np.stack([known[t] if t in known else fresh[t] for t in texts])
