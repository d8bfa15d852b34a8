"""``HybridRetriever``: LlamaIndex's retriever interface over lorebot's fused pgvector search.

LlamaIndex's own PGVectorStore takes three statements per retrieve and ORs every word in its
hybrid mode; this keeps LlamaIndex's types (QueryBundle in, NodeWithScore out) with one
statement behind them (see ``knowledge.store.search``). The embedding model is passed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from sqlalchemy.orm import Session

from knowledge.embeddings import Embedder
from knowledge.store.search import Mode, SearchHit, SearchParams, search

SessionFactory = Callable[[], Any]  # a context manager yielding a Session (Database.session)


def hit_to_node(hit: SearchHit) -> NodeWithScore:
    node = TextNode(
        id_=str(hit.chunk_id),
        text=hit.text,
        metadata={
            "chunk_id": hit.chunk_id, "document_id": hit.document_id, "ordinal": hit.ordinal,
            "heading_path": hit.heading_path, "title": hit.title, "uri": hit.uri,
            "collection": hit.collection, "source": hit.source, "similarity": hit.similarity,
            "keyword_rank": hit.keyword_rank, "fused_score": hit.score,
            "last_success_at": hit.last_success_at.isoformat() if hit.last_success_at else None,
        },
    )
    return NodeWithScore(node=node, score=hit.score)


def node_to_hit(node: NodeWithScore) -> SearchHit:
    from datetime import datetime

    m = node.node.metadata
    last = m.get("last_success_at")
    return SearchHit(
        chunk_id=int(m["chunk_id"]), document_id=int(m["document_id"]), ordinal=int(m["ordinal"]),
        text=node.node.get_content(), heading_path=m.get("heading_path", ""),
        title=m.get("title", ""), uri=m.get("uri", ""), collection=m.get("collection", ""),
        source=m.get("source", ""), similarity=m.get("similarity"),
        keyword_rank=m.get("keyword_rank"), vector_position=None, keyword_position=None,
        score=float(node.score or 0.0),
        last_success_at=datetime.fromisoformat(last) if last else None,
    )


def fusion_from_settings(settings: Any) -> dict[str, Any]:
    """FUSION_METHOD and its arm weights: RRF_*_WEIGHT for rrf, FUSION_*_WEIGHT for minmax and
    zscore (a rank weight and a normalised-score weight are not on the same scale)."""
    method = getattr(settings, "fusion_method", "rrf")
    if method == "rrf":
        return {"fusion": "rrf", "vector_weight": settings.rrf_vector_weight,
                "keyword_weight": settings.rrf_keyword_weight}
    return {"fusion": method, "vector_weight": settings.fusion_vector_weight,
            "keyword_weight": settings.fusion_keyword_weight}


class HybridRetriever(BaseRetriever):
    """Hybrid (or single-arm) retrieval within a fixed set of collections."""

    def __init__(
        self,
        *,
        session_factory: SessionFactory,
        embedder: Embedder,
        collections: Sequence[str],
        mode: Mode = "hybrid",
        top_k: int = 5,
        candidates: int = 50,
        ef_search: int = 400,
        rrf_k: int = 60,
        fusion: str = "rrf",
        vector_weight: float = 1.0,
        keyword_weight: float = 1.0,
        sources: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        query_prefix: str = "",
        settings: Any = None,
        keyword_max_doc_freq: float = 0.2,
        keyword_max_terms: int = 12,
    ) -> None:
        super().__init__()
        # With settings, questions go to the active embedding space (``lorebot embeddings
        # activate``); without, to the base vectors in ``chunks.embedding``.
        self._settings = settings
        self._session_factory = session_factory
        self._embedder = embedder
        self._query_prefix = query_prefix
        self.params = SearchParams(
            collections=list(collections), top_k=top_k, candidates=candidates,
            ef_search=ef_search, rrf_k=rrf_k, fusion=fusion,  # type: ignore[arg-type]
            vector_weight=vector_weight,
            keyword_weight=keyword_weight, mode=mode, sources=sources, metadata=metadata,
            keyword_max_doc_freq=keyword_max_doc_freq, keyword_max_terms=keyword_max_terms,
        )
        self.last_timings_ms: dict[str, float] = {}

    @classmethod
    def from_settings(cls, settings: Any, *, session_factory: SessionFactory, embedder: Embedder,
                      collections: Sequence[str], mode: Mode = "hybrid",
                      top_k: int | None = None, **kw: Any) -> HybridRetriever:
        return cls(
            session_factory=session_factory, embedder=embedder, collections=collections, mode=mode,
            top_k=top_k or settings.retrieval_top_k,
            candidates=max(settings.retrieval_candidates, top_k or 0),
            ef_search=settings.retrieval_ef_search, rrf_k=settings.rrf_k,
            **fusion_from_settings(settings), keyword_max_doc_freq=settings.keyword_max_doc_freq,
            keyword_max_terms=settings.keyword_max_terms, settings=settings, **kw,
        )

    def search_hits(self, query: str, *, session: Session | None = None) -> list[SearchHit]:
        """The typed hits (what the answering service uses); timings in ``last_timings_ms``."""
        t0 = time.perf_counter()
        if session is not None:
            hits, t1 = self._search(session, query)
        else:
            with self._session_factory() as s:
                hits, t1 = self._search(s, query)
        t2 = time.perf_counter()
        self.last_timings_ms = {"embed": (t1 - t0) * 1000, "search": (t2 - t1) * 1000}
        return hits

    def _search(self, session: Session, query: str) -> tuple[list[SearchHit], float]:
        """Hits, and when the question's embedding was done (for the stage timings)."""
        if self._settings is not None:
            from knowledge.adaptation.encoder import encoder_for
            from knowledge.store.active_space import active_spec
            from knowledge.store.spaces import search_space

            spec = active_spec(session=session, settings=self._settings)
            if not spec.space.is_base:
                vector = None
                if self.params.mode != "keyword":
                    vector = encoder_for(spec, self._settings).encode_query(self._query_prefix + query)
                t1 = time.perf_counter()
                return search_space(session=session, space=spec.space, params=self.params,
                                    query_text=query, query_vector=vector), t1
        vector = None
        if self.params.mode != "keyword":
            vector = self._embedder.embed_query(self._query_prefix + query)
        t1 = time.perf_counter()
        return search(session=session, params=self.params, query_text=query, query_vector=vector), t1

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [hit_to_node(h) for h in self.search_hits(query_bundle.query_str)]
