"""Declarative base and the timestamp columns every table carries; the database protocol.

One ``Base`` (one metadata) for the bot's tables and the libraries': Alembic sees them all.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy import DateTime, Engine, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

# Stable constraint names keep Alembic's autogenerate and downgrades deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


@runtime_checkable
class Database(Protocol):
    """What the libraries need of a database handle: the engine (for a lock's own connection)
    and a session context manager committed on success, rolled back on error.

    ``bot.db.session.Database`` is one; the libraries take this protocol so they never import
    the bot.
    """

    @property
    def engine(self) -> Engine: ...

    def session(self) -> AbstractContextManager[Session]: ...
