"""The raw psycopg connection under a SQLAlchemy session, with pgvector's types registered.

COPY and numpy-vector binding need the driver connection; it stays inside the session's
transaction, so what is written through it commits or rolls back with everything else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def raw_connection(session: Session) -> Any:
    """The psycopg connection of ``session`` (same transaction), able to send numpy vectors."""
    conn = session.connection().connection.driver_connection
    if conn.adapters.types.get("vector") is None:
        from pgvector.psycopg import register_vector

        register_vector(conn)
    return conn
