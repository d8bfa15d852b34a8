"""Reduced vector spaces measured side by side with the full one, on labelled questions.

For each variant (halfvec storage, PCA or truncation to fewer dimensions, or both) the
evaluation collection's vectors are reduced, written to a scratch space table with its own
HNSW index, and every question is run through the same search statement the bot uses. The
report gives quality, index size and latency per variant next to the active (full) space; the
scratch tables are dropped afterwards, whatever happens.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from knowledge.adaptation.reduce import PCAProjection, fit_pca, to_half, truncate
from knowledge.evaluation import BeirData, evaluate_rankings
from knowledge.store import spaces
from knowledge.store.search import SearchParams

_PART = re.compile(r"^(halfvec|pca(\d+)|trunc(\d+))$")


@dataclass(frozen=True)
class Variant:
    """One way to store the vectors: ``storage`` and an optional dimension reduction."""

    storage: str = "vector"
    pca: int | None = None
    truncate: int | None = None

    def __post_init__(self) -> None:
        if self.storage not in spaces.STORAGES:
            raise ValueError(f"vector storage must be one of {', '.join(spaces.STORAGES)}")
        if self.pca and self.truncate:
            raise ValueError("choose PCA or truncation, not both")
        for n in (self.pca, self.truncate):
            if n is not None and n < 1:
                raise ValueError("reduced dimensions must be at least 1")

    @property
    def name(self) -> str:
        parts = [f"pca{self.pca}"] if self.pca else []
        parts += [f"trunc{self.truncate}"] if self.truncate else []
        parts += ["halfvec"] if self.storage == "halfvec" else []
        return "+".join(parts) or "full"

    @property
    def is_full(self) -> bool:
        return self.storage == "vector" and not self.pca and not self.truncate

    @classmethod
    def parse(cls, spec: str) -> Variant:
        """``halfvec``, ``pca256``, ``trunc128``, or a ``+``-joined pair such as ``pca256+halfvec``."""
        storage, pca, trunc = "vector", None, None
        for part in filter(None, (p.strip().lower() for p in spec.split("+"))):
            m = _PART.match(part)
            if not m:
                raise ValueError(f"unknown vector space {spec!r}: use halfvec, pcaN, truncN, "
                                 "or two of them joined with + (e.g. pca256+halfvec)")
            if part == "halfvec":
                storage = "halfvec"
            elif m.group(2):
                pca = int(m.group(2))
            else:
                trunc = int(m.group(3))
        return cls(storage=storage, pca=pca, truncate=trunc)

    @classmethod
    def from_settings(cls, settings: Any) -> Variant:
        """The reduction the settings ask for (``EMBEDDING_STORAGE``, ``EMBEDDING_DIMENSIONS``,
        ``EMBEDDING_REDUCTION``); ``full`` when they ask for none."""
        dims = int(settings.embedding_dimensions or 0) or None
        method = settings.embedding_reduction
        return cls(storage=settings.embedding_storage,
                   pca=dims if method == "pca" else None,
                   truncate=dims if method == "truncate" else None)


@dataclass
class Reducer:
    """Turns full vectors into a variant's vectors (the PCA is fitted on the corpus)."""

    variant: Variant
    projection: PCAProjection | None = None

    @classmethod
    def fit(cls, variant: Variant, corpus: np.ndarray) -> Reducer:
        if variant.pca:
            if variant.pca >= corpus.shape[1]:
                raise ValueError(f"PCA to {variant.pca} dimensions: the vectors only have "
                                 f"{corpus.shape[1]}")
            return cls(variant, fit_pca(corpus, variant.pca))
        if variant.truncate and variant.truncate >= corpus.shape[1]:
            raise ValueError(f"truncating to {variant.truncate}: the vectors only have {corpus.shape[1]}")
        return cls(variant)

    @property
    def dimension(self) -> int | None:
        return self.variant.pca or self.variant.truncate

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if self.projection is not None:
            x = self.projection.apply(x)
        elif self.variant.truncate:
            x = truncate(x, self.variant.truncate)
        return to_half(x) if self.variant.storage == "halfvec" else x


def _scratch_space(variant: Variant, dimension: int) -> spaces.VectorSpace:
    # the process id keeps two evaluations running at once out of each other's tables
    version = f"eval-scratch-{os.getpid()}-{variant.name.replace('+', '-')}"
    return spaces.VectorSpace(version, table=spaces.table_for(version), storage=variant.storage,
                              dimension=dimension)


def compare_spaces(
    *,
    db: Any,
    data: BeirData,
    collection: str,
    base_space: spaces.VectorSpace,
    query_vectors: dict[str, np.ndarray],
    query_cost_ms: dict[str, float],
    variants: Sequence[Variant],
    rank_documents: Callable[[list[Any]], list[str]],
    params: SearchParams,
    limit_queries: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Quality, index size and latency of ``base_space`` and each variant, for ``params.mode``.

    ``query_vectors`` are the questions embedded into ``base_space`` (by text);
    ``rank_documents`` turns search hits into ranked document ids for the qrels.
    """
    qids = [q for q in data.qrels if q in data.queries][: limit_queries or None]
    with db.session() as s:
        chunk_ids, corpus = spaces.read_vectors(session=s, space=base_space, collection=collection)
    if not chunk_ids:
        raise ValueError(f"collection {collection} has no vectors in space {base_space.version}")
    rows = []
    # Every variant, the full one included, gets its own scratch table of just this collection,
    # so index sizes and latencies compare like with like.
    for variant in [Variant(), *[v for v in variants if not v.is_full]]:
        reducer = Reducer.fit(variant, corpus)
        space = _scratch_space(variant, reducer.dimension or corpus.shape[1])
        try:
            if progress:
                progress(f"building the {variant.name} space ({len(chunk_ids)} vectors)")
            with db.session() as s:
                spaces.drop_space(session=s, space=space)
                spaces.create_space(session=s, space=space)
                spaces.write_vectors(session=s, space=space, chunk_ids=chunk_ids,
                                     vectors=reducer(corpus))
                spaces.build_index(session=s, space=space)
                spaces.analyze(session=s, space=space)
            with db.session() as s:
                size = spaces.storage_bytes(session=s, space=space)
            rankings: dict[str, list[str]] = {}
            latencies: list[float] = []
            for q in qids:
                question = data.queries[q]
                t0 = time.perf_counter()
                vector = reducer(query_vectors[question])[0]
                with db.session() as s:
                    hits = spaces.search_space(session=s, space=space, params=params,
                                               query_text=question, query_vector=vector)
                latencies.append((time.perf_counter() - t0) * 1000 + query_cost_ms.get(question, 0.0))
                rankings[q] = rank_documents(hits)
            result = evaluate_rankings(params.mode, rankings, latencies,
                                       {q: data.qrels[q] for q in qids})
            rows.append({
                "space": variant.name, "storage": variant.storage,
                "dimension": reducer.dimension or corpus.shape[1], "mode": params.mode,
                **{k: v for k, v in result.summary().items() if k != "mode"},
                "index_bytes": size["index_bytes"], "vector_bytes": size["vector_bytes"],
                "explained_variance": (round(reducer.projection.explained_variance, 4)
                                       if reducer.projection is not None else None),
            })
        finally:
            with db.session() as s:
                spaces.drop_space(session=s, space=space)
    return rows
