"""Engine and sessions. ``Database`` is the one handle the rest of the core passes around."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import ConfigError, Settings

log = logging.getLogger(__name__)


@dataclass
class Database:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    embedded: bool

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for logs and ``lorebot doctor``."""
        return self.engine.url.render_as_string(hide_password=True)


def resolve_url(settings: Settings) -> tuple[str, bool]:
    """The database URL to use and whether it is the embedded server."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value(), False
    from bot.db.embedded import start_embedded

    return start_embedded(settings.lorebot_data_dir), True


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=10,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10},
    )


def connect(settings: Settings, *, url: str | None = None) -> Database:
    """Open the configured database (starting the embedded one if needed) and check it."""
    embedded = False
    if url is None:
        url, embedded = resolve_url(settings)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(
            f"cannot connect to the database at {engine.url.render_as_string(hide_password=True)}"
            f" ({reason}); check DATABASE_URL, or unset it to use the embedded server"
        ) from exc
    return Database(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False),
                    embedded=embedded)


def ping(engine: Engine) -> None:
    """Raises unless the server answers a trivial query (readiness, start-up checks)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def server_versions(engine: Engine) -> tuple[str, str | None, str | None]:
    """(PostgreSQL version, pgvector version created here, pgvector version available)."""
    with engine.connect() as conn:
        pg = conn.execute(text("SHOW server_version")).scalar()
        created = conn.execute(
            text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        ).scalar()
        available = conn.execute(
            text("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'")
        ).scalar()
    return str(pg), created, available
