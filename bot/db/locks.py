"""The one advisory-lock scheme of lorebot: two-key Postgres session locks ``(LOCK_CLASS, key)``.

A source's key is its id (every ingest of it, manual, admin or scheduled, takes that one lock);
maintenance jobs use negative keys. Tried without waiting on a connection of its own in
autocommit, so a long ingest holds a lock but never a transaction, and a killed process drops
its connection and with it the lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Connection, text

from knowledge.store.base import Database

LOCK_CLASS = 0x4C6F  # "Lo"; the two-key space never overlaps the one-key (bigint) space
PRUNE_LOCK = -1
RETRAIN_LOCK = -2


@contextmanager
def advisory_lock(db: Database, key: int) -> Iterator[bool]:
    """Try the lock (LOCK_CLASS, key); yields whether this process got it."""
    conn: Connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    got = False
    try:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:c, :k)"),
                                {"c": LOCK_CLASS, "k": key}).scalar())
        yield got
    finally:
        try:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:c, :k)"), {"c": LOCK_CLASS, "k": key})
        finally:
            conn.close()


def source_lock(db: Database, source_id: int) -> AbstractContextManager[bool]:
    """The ingest lock of one source (see the module doc)."""
    if source_id < 1:
        raise ValueError(f"a source id is positive, not {source_id}")
    return advisory_lock(db, source_id)
