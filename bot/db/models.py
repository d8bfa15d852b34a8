"""The tables of lorebot, as typed SQLAlchemy 2.0 models.

Only ``bot/db`` reads and writes these through the ORM. The tables the libraries alone use are
declared there (``knowledge.store.models``) on the same metadata and
re-exported here, so Alembic and old imports see every table from this one module.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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
    false,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from knowledge.store.base import Base, Timestamped
from knowledge.store.models import (
    Chunk,
    ChunkTerm,
    Document,
    EmbeddingCache,
    EmbeddingModel,
    Meta,
    StyleModel,
    TermStat,
)


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
    allow_mass_delete: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())


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
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class ProcessedEvent(Timestamped, Base):
    """Platform event ids already handled, so a retried delivery is answered once."""

    __tablename__ = "processed_events"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)


class QuestionRateEvent(Base):
    """One admitted question in a rate-limit window (``bot.ratelimit``); ``at`` is epoch seconds
    (for a queued question in a busy channel: when it may start). Pruned after a minute."""

    __tablename__ = "question_rate_events"
    __table_args__ = (Index("ix_question_rate_events_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), nullable=False)
    at: Mapped[float] = mapped_column(Float, nullable=False)


# Slack's OAuth store tables (plain tables, written by slack_sdk): on the same metadata.
from bot.db import oauth_tables as _oauth_tables  # noqa: E402,F401


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


__all__ = [
    "AuditLog",
    "Base",
    "ChannelScope",
    "Chunk",
    "ChunkTerm",
    "Collection",
    "Document",
    "EmbeddingCache",
    "EmbeddingModel",
    "Feedback",
    "ForumChannel",
    "IngestRun",
    "Interaction",
    "Meta",
    "ProcessedEvent",
    "QuestionRateEvent",
    "ReactionVote",
    "Source",
    "StyleModel",
    "TermStat",
    "Timestamped",
]
