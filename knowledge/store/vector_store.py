"""lorebot's ``chunks`` table as a LlamaIndex vector store.

Writes (``add``, ``delete``) go through :mod:`knowledge.store.writer` with binary COPY; a
caller that needs a document's old chunks deleted and new ones added atomically passes its
own ``session=`` so both happen in its transaction. ``query`` runs the fused vector +
full-text statement of :mod:`knowledge.store.search` (one round trip), so LlamaIndex's
retrievers and query engines work on top of it unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from llama_index.core.schema import BaseNode, NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from pydantic import PrivateAttr
from sqlalchemy import text
from sqlalchemy.orm import Session

from knowledge.store import terms, writer

# Node metadata keys that map onto chunk columns; everything else goes into chunks.metadata.
COLUMN_KEYS = ("document_id", "collection_id", "source_id", "ordinal", "heading_path",
               "token_count", "text_hash")


def chunk_node(
    *, text_: str, embedding: Sequence[float] | np.ndarray, document_id: int, collection_id: int,
    source_id: int, ordinal: int, heading_path: str, token_count: int, text_hash: str,
    metadata: dict[str, Any],
) -> TextNode:
    """A TextNode carrying everything one ``chunks`` row needs."""
    node = TextNode(
        text=text_,
        metadata={**metadata, "document_id": document_id, "collection_id": collection_id,
                  "source_id": source_id, "ordinal": ordinal, "heading_path": heading_path,
                  "token_count": token_count, "text_hash": text_hash},
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=str(document_id))},
    )
    # Kept as numpy: the COPY sends it in binary without a round trip through Python floats.
    node.embedding = embedding  # type: ignore[assignment]
    return node


class LoreVectorStore(BasePydanticVectorStore):
    """Vector store over ``chunks``; ``collections`` scopes ``query`` (search never runs unscoped)."""

    stores_text: bool = True
    is_embedding_query: bool = True
    collections: list[str] = ["default"]
    candidates: int = 50
    ef_search: int = 400
    rrf_k: int = 60
    fusion: str = "rrf"
    vector_weight: float = 1.0
    keyword_weight: float = 1.0

    _db: Any = PrivateAttr()

    def __init__(self, db: Any, **data: Any) -> None:
        super().__init__(**data)
        self._db = db

    @classmethod
    def from_settings(cls, db: Any, settings: Any, collections: list[str] | None = None) -> LoreVectorStore:
        from knowledge.retriever import fusion_from_settings

        return cls(db, collections=collections or [settings.default_collection],
                   candidates=settings.retrieval_candidates, ef_search=settings.retrieval_ef_search,
                   rrf_k=settings.rrf_k, **fusion_from_settings(settings))

    @property
    def client(self) -> Any:
        return self._db

    @contextmanager
    def _session(self, session: Session | None) -> Iterator[Session]:
        if session is not None:
            yield session
        else:
            with self._db.session() as own:
                yield own

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """Insert chunk nodes (see :func:`chunk_node`); ``session=`` joins the caller's transaction."""
        rows = []
        for node in nodes:
            meta = dict(node.metadata)
            if node.embedding is None:
                raise ValueError("every node needs its embedding before it is added to the store")
            missing = [k for k in ("document_id", "collection_id", "source_id") if k not in meta]
            if missing:
                raise ValueError(f"node metadata lacks {', '.join(missing)}; build nodes with chunk_node()")
            column = {k: meta.pop(k) for k in COLUMN_KEYS if k in meta}
            body = node.get_content()
            rows.append(writer.ChunkRow(
                document_id=int(column["document_id"]), collection_id=int(column["collection_id"]),
                source_id=int(column["source_id"]), ordinal=int(column.get("ordinal", 0)),
                text=body, heading_path=str(column.get("heading_path", "")),
                token_count=int(column.get("token_count", 0)),
                text_hash=str(column.get("text_hash") or _hash(body)),
                embedding=np.asarray(node.embedding, dtype=np.float32), metadata=meta,
            ))
        with self._session(kwargs.get("session")) as session:
            ids = writer.copy_chunks(session=session, rows=rows)
            if kwargs.get("session") is None:
                # Called from outside the pipeline (which refreshes once per run): keep the
                # keyword arm's term statistics in step with what was just added.
                terms.refresh_term_stats(session=session)
        return [str(i) for i in ids]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Delete every chunk of document ``ref_doc_id`` (the ``documents.id``)."""
        with self._session(delete_kwargs.get("session")) as session:
            writer.delete_chunks_of(session=session, document_ids=[int(ref_doc_id)])

    def delete_nodes(self, node_ids: list[str] | None = None, filters: Any = None,
                     **delete_kwargs: Any) -> None:
        if filters is not None:
            raise NotImplementedError("delete by metadata filter is not supported; pass node_ids")
        if not node_ids:
            return
        with self._session(delete_kwargs.get("session")) as session:
            session.execute(text("DELETE FROM chunks WHERE id = ANY(:ids)"),
                            {"ids": [int(i) for i in node_ids]})

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        from knowledge.store.search import SearchParams, search

        mode = "hybrid" if query.query_str else "vector"
        if query.mode == VectorStoreQueryMode.TEXT_SEARCH:
            mode = "keyword"
        collections = list(kwargs.get("collections") or self.collections)
        top_k = max(1, int(query.similarity_top_k))
        params = SearchParams(
            collections=collections, top_k=top_k, candidates=max(self.candidates, top_k),
            ef_search=self.ef_search, rrf_k=self.rrf_k, mode=mode,  # type: ignore[arg-type]
            fusion=self.fusion, vector_weight=self.vector_weight,  # type: ignore[arg-type]
            keyword_weight=self.keyword_weight,
            metadata=_exact_filters(query),
        )
        with self._db.session() as session:
            hits = search(session=session, params=params, query_text=query.query_str or "",
                          query_vector=query.query_embedding)
        nodes = []
        for hit in hits:
            node = TextNode(
                id_=str(hit.chunk_id), text=hit.text,
                metadata={**hit.metadata, "title": hit.title, "uri": hit.uri,
                          "heading_path": hit.heading_path, "document_id": hit.document_id,
                          "ordinal": hit.ordinal, "collection": hit.collection, "source": hit.source},
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=str(hit.document_id))},
            )
            nodes.append(node)
        return VectorStoreQueryResult(
            nodes=nodes, similarities=[h.score for h in hits], ids=[str(h.chunk_id) for h in hits]
        )


def _exact_filters(query: VectorStoreQuery) -> dict[str, Any] | None:
    """LlamaIndex equality filters as a JSONB containment match on chunk metadata."""
    if query.filters is None:
        return None
    out: dict[str, Any] = {}
    for f in query.filters.filters:
        operator = getattr(getattr(f, "operator", None), "value", "==")
        if operator != "==" or not hasattr(f, "key"):
            raise NotImplementedError("only equality metadata filters are supported")
        out[f.key] = f.value
    return out or None


def _hash(body: str) -> str:
    from knowledge.embeddings import text_hash

    return text_hash(body)
