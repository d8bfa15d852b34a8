"""The tables only the knowledge library reads and writes through the ORM: documents, chunks,
the embedding cache, store facts, BM25 statistics, and the embedding and style model versions
(``knowledge.store.model_registry``).

They share ``knowledge.store.base.Base`` (one metadata) with the bot's tables, so one Alembic
history covers both; ``documents.source_id`` refers to the bot's ``sources`` table by name only.
Vector columns are declared without a dimension: the real dimension comes from the configured
embedding model when the migration runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import VECTOR
from sqlalchemy import (
    BigInteger,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, REAL, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from knowledge.store.base import Base, Timestamped


class Document(Timestamped, Base):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), nullable=False, index=True
    )
    external_id: Mapped[str] = mapped_column(Text, nullable=False)
    uri: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    title: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[str | None] = mapped_column(String(200))
    source_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, server_default="{}"
    )


class Chunk(Timestamped, Base):
    __tablename__ = "chunks"
    __table_args__ = (
        Index(
            "ix_chunks_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_with={"m": 16, "ef_construction": 128},  # migration 0004
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        Index("ix_chunks_tsv", "tsv", postgresql_using="gin"),
        UniqueConstraint("document_id", "ordinal"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), nullable=False
    )
    # Denormalised from the document's source so that a scoped search needs no join.
    collection_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    source_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    ordinal: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    heading_path: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    token_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    text_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    embedding: Mapped[list[float] | None] = mapped_column(VECTOR())
    tsv: Mapped[str] = mapped_column(
        TSVECTOR,
        Computed(
            "setweight(to_tsvector('english', coalesce(heading_path, '')), 'A') || "
            "to_tsvector('english', text)",
            persisted=True,
        ),
    )
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, server_default="{}"
    )


class EmbeddingCache(Timestamped, Base):
    __tablename__ = "embedding_cache"

    model: Mapped[str] = mapped_column(String(300), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    embedding: Mapped[list[float]] = mapped_column(VECTOR(), nullable=False)


class Meta(Timestamped, Base):
    """Small key/value facts about the store, e.g. which embedding model made the vectors."""

    __tablename__ = "lorebot_meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


class TermStat(Timestamped, Base):
    """Chunks per lexeme (document frequency), refreshed after ingests; the BM25 keyword arm
    reads it to weight rare terms and skip common ones."""

    __tablename__ = "term_stats"

    lexeme: Mapped[str] = mapped_column(Text, primary_key=True)
    ndoc: Mapped[int] = mapped_column(Integer, nullable=False)


class ChunkTerm(Base):
    """One posting: a lexeme of a chunk and its BM25 term weight. Written by triggers on
    ``chunks`` (migration 0003), read by the keyword arm of search."""

    __tablename__ = "chunk_terms"
    __table_args__ = (
        PrimaryKeyConstraint("chunk_id", "lexeme", postgresql_include=["tf", "dl"]),
        Index("ix_chunk_terms_lookup", "lexeme", "collection_id", text("weight DESC"),
              postgresql_include=["chunk_id"]),
    )

    chunk_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("chunks.id", ondelete="CASCADE"))
    lexeme: Mapped[str] = mapped_column(Text)
    collection_id: Mapped[int] = mapped_column(Integer, nullable=False)
    tf: Mapped[int] = mapped_column(SmallInteger, nullable=False)  # occurrences in the chunk
    dl: Mapped[int] = mapped_column(Integer, nullable=False)  # the chunk's distinct lexemes
    weight: Mapped[float] = mapped_column(REAL, nullable=False)


class EmbeddingModel(Timestamped, Base):
    __tablename__ = "embedding_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    base_model: Mapped[str] = mapped_column(Text, nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    dimension: Mapped[int] = mapped_column(Integer, nullable=False)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="candidate")
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StyleModel(Timestamped, Base):
    __tablename__ = "style_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    base_model: Mapped[str] = mapped_column(Text, nullable=False)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="candidate")
    path: Mapped[str] = mapped_column(Text, nullable=False)
    scope: Mapped[str | None] = mapped_column(String(200))
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
