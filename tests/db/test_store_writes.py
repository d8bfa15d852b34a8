"""The store's write side: LlamaIndex vector store add/delete/query, the embedding cache, meta."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from bot.db import sources as sources_db
from knowledge.embeddings import embedder_from_settings, llama_embedding, text_hash
from knowledge.store import cache, meta, writer
from knowledge.store.vector_store import LoreVectorStore, chunk_node

pytestmark = pytest.mark.db

TEXTS = [
    "Deploys go out every Tuesday after the change review.",
    "The cafeteria serves lunch at noon on the second floor.",
    "Rotate the database password every ninety days with the vault tool.",
]


@pytest.fixture
def doc_ids(database):
    with database.session() as s:
        src = sources_db.create_source(session=s, name="s", kind="folder", location="/x",
                                       collection="default")
        ids = writer.upsert_documents(session=s, source_id=src.id, records=[
            writer.DocumentRecord(external_id=f"d{i}", uri=f"https://wiki/{i}", title=f"Doc {i}",
                                  content_hash="h", version=None, source_updated_at=None, metadata={})
            for i in range(len(TEXTS))
        ])
        return src.id, src.collection_id, [ids[f"d{i}"] for i in range(len(TEXTS))]


def _nodes(embedder, source_id, collection_id, ids):
    vecs = embedder.embed(TEXTS)
    return [
        chunk_node(text_=t, embedding=v, document_id=d, collection_id=collection_id,
                   source_id=source_id, ordinal=0, heading_path=f"Section {i}",
                   token_count=embedder.count_tokens(t), text_hash=text_hash(t),
                   metadata={"title": f"Doc {i}", "uri": f"https://wiki/{i}"})
        for i, (t, v, d) in enumerate(zip(TEXTS, vecs, ids, strict=True))
    ]


def test_vector_store_add_query_delete_through_llamaindex(database, settings, doc_ids):
    from llama_index.core import VectorStoreIndex

    embedder = embedder_from_settings(settings)
    source_id, collection_id, ids = doc_ids
    store = LoreVectorStore.from_settings(database, settings)
    node_ids = store.add(_nodes(embedder, source_id, collection_id, ids))
    assert len(node_ids) == 3 and all(i.isdigit() for i in node_ids)
    with database.session() as s:
        rows = s.execute(text("SELECT id, heading_path, metadata, embedding IS NOT NULL FROM chunks "
                              "ORDER BY id")).all()
    assert [str(r[0]) for r in rows] == node_ids
    assert rows[0][1] == "Section 0" and rows[0][2] == {"title": "Doc 0", "uri": "https://wiki/0"}

    index = VectorStoreIndex.from_vector_store(store, embed_model=llama_embedding(embedder))
    hits = index.as_retriever(similarity_top_k=1).retrieve("When do we deploy to production?")
    assert hits[0].node.get_content() == TEXTS[0]
    assert hits[0].node.metadata["uri"] == "https://wiki/0"

    store.delete(str(ids[0]))
    hits = index.as_retriever(similarity_top_k=3).retrieve("When do we deploy to production?")
    assert TEXTS[0] not in [h.node.get_content() for h in hits]
    store.delete_nodes([node_ids[1]])
    with database.session() as s:
        assert s.execute(text("SELECT count(*) FROM chunks")).scalar_one() == 1


def test_nodes_without_embedding_or_ids_are_refused(database, settings, doc_ids):
    from llama_index.core.schema import TextNode

    store = LoreVectorStore(database)
    with pytest.raises(ValueError, match="embedding"):
        store.add([TextNode(text="x", metadata={"document_id": 1})])
    with pytest.raises(ValueError, match="chunk_node"):
        store.add([TextNode(text="x", embedding=[0.0] * 384)])


def test_a_failed_transaction_adds_nothing(database, settings, doc_ids):
    embedder = embedder_from_settings(settings)
    source_id, collection_id, ids = doc_ids
    store = LoreVectorStore(database)
    with pytest.raises(RuntimeError), database.session() as s:
        store.add(_nodes(embedder, source_id, collection_id, ids), session=s)
        raise RuntimeError("crash after the COPY, before commit")
    with database.session() as s:
        assert s.execute(text("SELECT count(*) FROM chunks")).scalar_one() == 0


def test_embedding_cache_is_keyed_by_model(database):
    v = np.arange(384, dtype=np.float32) / 384
    with database.session() as s:
        cache.store(session=s, model_id="m1", vectors={"aa": v, "bb": v * 2})
        cache.store(session=s, model_id="m1", vectors={"aa": v * 3})  # existing key kept
    with database.session() as s:
        got = cache.lookup(session=s, model_id="m1", hashes=["aa", "bb", "cc"])
        other = cache.lookup(session=s, model_id="m2", hashes=["aa"])
    assert set(got) == {"aa", "bb"} and other == {}
    np.testing.assert_allclose(got["aa"], v, rtol=1e-6)
    np.testing.assert_allclose(got["bb"], v * 2, rtol=1e-6)
    with database.session() as s:
        assert cache.purge_model(session=s, model_id="m1") == 2


def test_meta_records_model_and_checks_from_settings(database, settings):
    meta.check_embedding_model(database, settings)  # nothing recorded yet: fine
    with database.session() as s:
        meta.record_model(session=s, name=settings.embedding_model, dimension=384)
        assert meta.column_dimension(session=s) == 384
    meta.check_embedding_model(database, settings)
    other = settings.model_copy(update={"embedding_model": "/models/not-there"})
    with database.session() as s:
        meta.record_model(session=s, name="all-MiniLM-L6-v2-finetuned", dimension=384)
    with pytest.raises(meta.EmbeddingModelMismatch, match="--reembed"):
        meta.check_embedding_model(database, settings)
    with pytest.raises(Exception, match="not-there"):
        meta.check_embedding_model(database, other)
