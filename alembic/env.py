"""Alembic environment: metadata and URL come from the app, never from alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from bot.db.migrate import compare_type
from bot.db.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001, ANN201
    """Per-version vector tables (``chunk_vectors_<version>``) are data made at run time by
    ``lorebot embeddings`` (their dimension varies); they are not part of the schema."""
    return not (type_ == "table" and reflected and compare_to is None
                and str(name).startswith("chunk_vectors_"))


def _url() -> str:
    url = config.attributes.get("url")
    if url:
        return url
    from bot.db.session import resolve_url
    from bot.settings import get_settings

    return resolve_url(get_settings())[0]


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      compare_type=compare_type, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if "embedding_dim" not in config.attributes:
        from bot.runtime import embedding_dimension_for  # bot composes it: the model is a setting

        config.attributes["embedding_dim"] = embedding_dimension_for(None)
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          compare_type=compare_type, include_object=include_object,
                          transaction_per_migration=False)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          compare_type=compare_type, include_object=include_object)
        # One transaction for the whole upgrade: a migration failing halfway leaves the
        # database exactly as it was (Postgres DDL is transactional).
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
