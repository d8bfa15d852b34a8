"""Running Alembic from code: ``lorebot db ...``, start-up, and the tests.

The vector columns' dimension is an argument (``embedding_dim``): the caller knows the model
(``bot.runtime.embedding_dimension_for``), so this module needs nothing from the libraries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect

from bot.settings import ConfigError

ALEMBIC_DIR = Path(__file__).resolve().parents[2] / "alembic"


def alembic_config(url: str, *, embedding_dim: int) -> Any:
    from alembic.config import Config

    if not (ALEMBIC_DIR / "env.py").exists():
        raise ConfigError(f"alembic migrations not found at {ALEMBIC_DIR}; reinstall lorebot")
    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.attributes["url"] = url
    cfg.attributes["embedding_dim"] = embedding_dim
    return cfg


def upgrade(url: str, *, embedding_dim: int, revision: str = "head") -> None:
    from alembic import command

    _run(command.upgrade, url, embedding_dim, revision)


def downgrade(url: str, *, embedding_dim: int, revision: str) -> None:
    from alembic import command

    _run(command.downgrade, url, embedding_dim, revision)


def _run(fn: Any, url: str, embedding_dim: int, revision: str) -> None:
    from sqlalchemy.exc import DBAPIError

    try:
        fn(alembic_config(url, embedding_dim=embedding_dim), revision)
    except DBAPIError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        hint = ""
        if "vector" in first and ("extension" in first or "type" in first):
            hint = "; the server needs pgvector (CREATE EXTENSION vector) - install it"
        raise ConfigError(f"migration to {revision} failed and was rolled back: {first}{hint}") from exc


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(ALEMBIC_DIR))
    head = script.get_current_head()
    assert head is not None
    return head


def is_at_head(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def compare_type(context: Any, inspected_column: Any, metadata_column: Any,
                 inspected_type: Any, metadata_type: Any) -> bool | None:
    """Vector columns get their dimension from the model at migration time; ignore it here."""
    if type(metadata_type).__name__ in {"VECTOR", "Vector", "HALFVEC"}:
        return type(inspected_type).__name__ != type(metadata_type).__name__ and (
            "vector" not in str(inspected_type).lower()
        )
    return None


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
