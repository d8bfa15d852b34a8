"""The tables of lorebot, as typed SQLAlchemy 2.0 models.

Only ``bot/db`` reads and writes these through the ORM; the search SQL over ``chunks`` lives
in ``knowledge/store``. Vector columns are declared without a dimension here: the real
dimension comes from the configured embedding model when the migration runs.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import VECTOR
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, REAL, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base, Timestamped


class Collection(Timestamped, Base):
    __tablename__ = "collections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")


class Source(Timestamped, Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    location: Mapped[str] = mapped_column(Text, nullable=False)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    # "every:6h" or "cron:0 */6 * * *"; NULL means only on demand.
    schedule: Mapped[str | None] = mapped_column(String(200))
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="new")
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    cursor: Mapped[str | None] = mapped_column(Text)

    collection: Mapped[Collection] = relationship(lazy="joined")


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


class IngestRun(Timestamped, Base):
    __tablename__ = "ingest_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="running")
    trigger: Mapped[str] = mapped_column(String(20), nullable=False, server_default="manual")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    errors: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, server_default="[]")
    timings: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")


class Interaction(Timestamped, Base):
    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_reply", "platform", "reply_ref"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    channel: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    thread: Mapped[str | None] = mapped_column(String(200))
    asker_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    question: Mapped[str] = mapped_column(Text, nullable=False)
    standalone_question: Mapped[str | None] = mapped_column(Text)
    draft_answer: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, nullable=False)
    cited: Mapped[list[Any]] = mapped_column(JSONB, nullable=False, server_default="[]")
    collections: Mapped[list[str]] = mapped_column(
        ARRAY(String), nullable=False, server_default="{}"
    )
    model_versions: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default="{}"
    )
    latency_ms: Mapped[float] = mapped_column(Float, nullable=False, server_default="0")
    timings: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    abstained: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    style_rejected: Mapped[str | None] = mapped_column(Text)
    # The platform's id of the message that carries the answer (Slack ts, Discord id).
    reply_ref: Mapped[str | None] = mapped_column(String(200))


class Feedback(Timestamped, Base):
    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("interaction_id", "user_hash"),
        CheckConstraint("value IN (-1, 1)", name="value_is_vote"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    value: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    signal: Mapped[str] = mapped_column(String(20), nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    correction: Mapped[str | None] = mapped_column(Text)


class ChannelScope(Timestamped, Base):
    __tablename__ = "channel_scopes"
    __table_args__ = (UniqueConstraint("platform", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    channel: Mapped[str] = mapped_column(String(200), nullable=False)
    collections: Mapped[list[str]] = mapped_column(ARRAY(String), nullable=False)


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


class AuditLog(Timestamped, Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    actor: Mapped[str] = mapped_column(String(200), nullable=False)
    channel: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
    command: Mapped[str] = mapped_column(String(100), nullable=False)
    arguments: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    allowed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    outcome: Mapped[str] = mapped_column(Text, nullable=False, server_default="")


class ProcessedEvent(Timestamped, Base):
    """Platform event ids already handled, so a retried delivery is answered once."""

    __tablename__ = "processed_events"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)


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


class ReactionVote(Timestamped, Base):
    """Each vote emoji a person has on an answer, so removing one leaves the vote the others
    say (👍🏽 and 👎, then 👎 removed: 👍). Kept in the database, not in memory, so every
    replica and a restarted bot see the same reactions."""

    __tablename__ = "reaction_votes"
    __table_args__ = (
        PrimaryKeyConstraint("interaction_id", "user_hash", "emoji"),
        CheckConstraint("value IN (-1, 1)", name="value_is_vote"),
    )

    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), nullable=False
    )
    user_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # As the platform names it (skin tone kept: 👍 and 👍🏽 are two reactions on Discord).
    emoji: Mapped[str] = mapped_column(String(100), nullable=False)
    value: Mapped[int] = mapped_column(SmallInteger, nullable=False)


class ForumChannel(Timestamped, Base):
    """A forum channel (Discord) where lorebot answers every new post; set with ``forum enable``
    next to the channel scopes, which a forum's posts also follow."""

    __tablename__ = "forum_channels"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    channel: Mapped[str] = mapped_column(String(200), primary_key=True)
    enabled_by: Mapped[str] = mapped_column(String(200), nullable=False, server_default="")
