"""Migrations on the real embedded server: up, down, up again, and models == migrations."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from bot.db import migrate
from bot.db.models import Base
from bot.settings import ConfigError

pytestmark = pytest.mark.db

EXPECTED = {
    "collections", "sources", "documents", "chunks", "ingest_runs", "interactions", "feedback",
    "channel_scopes", "style_models", "audit_log", "embedding_cache", "processed_events",
    "reaction_votes", "forum_channels",
}


def test_upgrade_downgrade_upgrade(fresh_db_url: str) -> None:
    engine = create_engine(fresh_db_url)
    migrate.upgrade(fresh_db_url, embedding_dim=384)
    assert set(migrate.table_names(engine)) >= EXPECTED
    assert migrate.is_at_head(engine)
    migrate.downgrade(fresh_db_url, embedding_dim=384, revision="base")
    assert migrate.table_names(engine) == ["alembic_version"]
    assert migrate.current_revision(engine) is None
    migrate.upgrade(fresh_db_url, embedding_dim=384)
    assert migrate.is_at_head(engine)
    engine.dispose()


def test_postings_migration_indexes_existing_chunks_and_reverts(fresh_db_url: str) -> None:
    """0003 fills ``chunk_terms`` for chunks written before it, and its downgrade removes the
    table and the triggers (so a later insert into chunks does not fail on a missing table)."""
    migrate.upgrade(fresh_db_url, embedding_dim=3, revision="0002")
    engine = create_engine(fresh_db_url)
    insert = text(
        "WITH c AS (INSERT INTO collections (name) VALUES (:n) RETURNING id), "
        "s AS (INSERT INTO sources (name, kind, location, collection_id) "
        "      SELECT :n, 'folder', '', id FROM c RETURNING id, collection_id), "
        "d AS (INSERT INTO documents (source_id, external_id, content_hash) "
        "      SELECT id, 'a.md', 'h' FROM s RETURNING id, source_id) "
        "INSERT INTO chunks (document_id, collection_id, source_id, ordinal, text, text_hash) "
        "SELECT d.id, s.collection_id, s.id, 0, :t, 'h' FROM d JOIN s ON s.id = d.source_id")
    with engine.begin() as conn:
        conn.execute(insert, {"n": "before", "t": "Pumps and valves, pumps again."})
    migrate.upgrade(fresh_db_url, embedding_dim=3, revision="0003")
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT lexeme, weight FROM chunk_terms")).all())
    assert set(rows) == {"pump", "valv"}  # "and", "again": stop words
    assert rows["pump"] > rows["valv"]  # twice in the chunk: a higher BM25 term weight
    migrate.downgrade(fresh_db_url, embedding_dim=3, revision="0002")
    with engine.begin() as conn:
        assert "chunk_terms" not in migrate.table_names(engine)
        conn.execute(insert, {"n": "after", "t": "Inserted after the downgrade."})
    engine.dispose()


def test_vectors_move_into_the_row_and_hnsw_is_rebuilt(fresh_db_url: str) -> None:
    """0004: a vector TOASTed under pgvector's EXTERNAL storage is rewritten into the chunk row
    (exact scans stop paying a TOAST lookup per vector), and the index gets ef_construction 128."""
    import random

    migrate.upgrade(fresh_db_url, embedding_dim=384, revision="0003")
    engine = create_engine(fresh_db_url)
    rng = random.Random(0)
    words = " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(7))
                     for _ in range(120))  # a chunk-sized text: the vector is what TOAST moves out
    vector = "[" + ",".join(f"{rng.uniform(-1, 1):.6f}" for _ in range(384)) + "]"
    toasted = text("SELECT pg_column_toast_chunk_id(embedding) IS NOT NULL FROM chunks")
    with engine.begin() as conn:
        conn.execute(text(
            "WITH c AS (INSERT INTO collections (name) VALUES ('c') RETURNING id), "
            "s AS (INSERT INTO sources (name, kind, location, collection_id) "
            "      SELECT 'c', 'folder', '', id FROM c RETURNING id, collection_id), "
            "d AS (INSERT INTO documents (source_id, external_id, content_hash) "
            "      SELECT id, 'a.md', 'h' FROM s RETURNING id, source_id) "
            "INSERT INTO chunks (document_id, collection_id, source_id, ordinal, text, text_hash, "
            "embedding) SELECT d.id, s.collection_id, s.id, 0, :t, 'h', CAST(:v AS vector) "
            "FROM d JOIN s ON s.id = d.source_id"), {"t": words, "v": vector})
        assert conn.execute(toasted).scalar_one()  # the precondition this test is about
    migrate.upgrade(fresh_db_url, embedding_dim=384, revision="0004")
    with engine.connect() as conn:
        assert not conn.execute(toasted).scalar_one()
        assert conn.execute(text("SELECT embedding::text FROM chunks")).scalar_one().startswith(
            vector[:20])
        idx = conn.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_chunks_embedding_hnsw'")).scalar()
    assert "ef_construction='128'" in idx
    migrate.downgrade(fresh_db_url, embedding_dim=384, revision="0003")
    with engine.connect() as conn:
        idx = conn.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_chunks_embedding_hnsw'")).scalar()
    assert "ef_construction='64'" in idx
    engine.dispose()


def test_embedding_dimension_comes_from_the_model(fresh_db_url: str) -> None:
    migrate.upgrade(fresh_db_url, embedding_dim=768)
    engine = create_engine(fresh_db_url)
    with engine.connect() as conn:
        typ = conn.execute(text(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'"
        )).scalar()
        idx = conn.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_chunks_embedding_hnsw'"
        )).scalar()
    assert typ == "vector(768)"
    assert "hnsw" in idx and "vector_cosine_ops" in idx
    engine.dispose()


def test_models_and_migrations_agree(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": migrate.compare_type})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []


def test_generated_tsvector_column(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO collections (name) VALUES ('c')"))
        conn.execute(text("INSERT INTO sources (name, kind, location, collection_id) "
                          "VALUES ('s', 'folder', '/x', 1)"))
        conn.execute(text("INSERT INTO documents (source_id, external_id, content_hash) "
                          "VALUES (1, 'd', 'h')"))
        conn.execute(text("INSERT INTO chunks (document_id, collection_id, source_id, ordinal, "
                          "text, heading_path, text_hash) VALUES (1, 1, 1, 0, "
                          "'Rotating the deploy keys', 'Security', 'h')"))
        hit = conn.execute(text(
            "SELECT count(*) FROM chunks WHERE tsv @@ websearch_to_tsquery('english', 'rotate key')"
        )).scalar()
    engine.dispose()
    assert hit == 1


def test_failed_migration_leaves_database_as_it_was(fresh_db_url: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure halfway through the upgrade rolls back every table it created."""
    engine = create_engine(fresh_db_url)
    with engine.begin() as conn:
        # 'sources' already existing makes the migration fail after earlier tables were created
        conn.execute(text("CREATE TABLE sources (id int)"))
    with pytest.raises(ConfigError, match="rolled back"):
        migrate.upgrade(fresh_db_url, embedding_dim=384)
    assert set(migrate.table_names(engine)) == {"sources"}
    assert migrate.current_revision(engine) is None
    engine.dispose()
