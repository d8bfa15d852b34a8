"""Opening lorebot: settings -> database (embedded or DATABASE_URL) -> migrations at head."""

from __future__ import annotations

import logging

from bot.db import migrate
from bot.db.session import Database, connect
from bot.settings import Settings, get_settings

log = logging.getLogger(__name__)


def embedding_dimension_for(settings: Settings | None = None) -> int:
    """The vector dimension of the configured embedding model, which the migrations need."""
    from knowledge.embeddings import model_dimension

    return model_dimension((settings or get_settings()).embedding_model)


def open_database(settings: Settings | None = None, *, run_migrations: bool = True) -> Database:
    """Connect to the configured database and bring its schema to head.

    Migrations run in one transaction, so a failure leaves the schema as it was.
    """
    settings = settings or get_settings()
    db = connect(settings)
    if run_migrations and not migrate.is_at_head(db.engine):
        log.info("migrating database to head", extra={"database": db.safe_url})
        migrate.upgrade(db.url, embedding_dim=embedding_dimension_for(settings))
    return db


def open_for_serving(settings: Settings | None = None) -> Database:
    """The database, migrated, with the stored vectors checked against EMBEDDING_MODEL.

    Answering with one model over vectors made by another returns nonsense quietly; refusing
    to start with the command that re-embeds is the honest failure.
    """
    from knowledge.store.meta import check_embedding_model

    settings = settings or get_settings()
    db = open_database(settings)
    try:
        check_embedding_model(db, settings)
    except Exception:
        db.dispose()
        raise
    return db
