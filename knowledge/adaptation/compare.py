"""Reduced vector spaces measured side by side with the full one, on labelled questions.

For each variant (halfvec storage, PCA or truncation to fewer dimensions, or both) the
evaluation collection's vectors are reduced, written to a scratch space table with its own
HNSW index, and every question is run through the same search statement the bot uses. The
report gives quality, index size and latency per variant next to the active (full) space; the
scratch tables are dropped afterwards, whatever happens.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from knowledge.adaptation.vectors import Reducer, Variant
from knowledge.evaluation import BeirData, evaluate_rankings
from knowledge.store import spaces
from knowledge.store.search import SearchParams


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
