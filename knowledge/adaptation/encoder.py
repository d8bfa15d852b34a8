"""Turning text into a space's vectors (the model, then its projection), and searching the
active space: what a question needs, without the re-embedding and switch-over machinery."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from knowledge.adaptation.vectors import PCAProjection, truncate
from knowledge.store import spaces
from knowledge.store.active_space import SpaceSpec, active_spec
from knowledge.store.search import SearchHit, SearchParams


class SpaceEncoder:
    """The model of a space, followed by its projection; rows come out unit length."""

    def __init__(self, spec: SpaceSpec, embedder: Any) -> None:
        self.spec = spec
        self.embedder = embedder
        self.pca = PCAProjection.load(spec.projection) if spec.projection else None

    def reduce(self, vectors: np.ndarray) -> np.ndarray:
        if self.pca is not None:
            return self.pca.apply(vectors)
        if self.spec.truncate:
            return truncate(vectors, int(self.spec.truncate))
        return vectors

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.reduce(self.embedder.embed(list(texts)))

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def encoder_for(spec: SpaceSpec, settings: Any) -> SpaceEncoder:
    from knowledge.embeddings import shared_embedder

    # the configured model is embedder_from_settings' instance: one load per process
    embedder = shared_embedder(spec.model_path, settings.embedding_batch_size,
                               settings.embedding_max_tokens, settings.embedding_precision,
                               settings.embedding_runtime)
    return SpaceEncoder(spec, embedder)


def search_active(
    *, session: Any, settings: Any, params: SearchParams, query_text: str,
    encoder_factory: Callable[[SpaceSpec, Any], SpaceEncoder] = encoder_for,
) -> list[SearchHit]:
    """Search the active space: its table and its model embed the question together.

    The space is read in the same transaction as the search; the previous space's table is
    never dropped by a switch, so a question that started before one still completes.
    """
    spec = active_spec(session=session, settings=settings)
    vector = None
    if params.mode != "keyword":
        vector = encoder_factory(spec, settings).encode_query(query_text)
    return spaces.search_space(session=session, space=spec.space, params=params,
                               query_text=query_text, query_vector=vector)


