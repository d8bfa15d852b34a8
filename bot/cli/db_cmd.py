"""``lorebot db upgrade | downgrade REV | current``."""

from __future__ import annotations

import typer

from bot.cli.audited import record_once
from bot.cli.common import friendly_errors, settings
from bot.db import migrate
from bot.db.session import connect
from bot.runtime import embedding_dimension_for

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@app.command()
@friendly_errors
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Migrate the database up to REVISION (default: head)."""
    s = settings()
    db = connect(s)
    migrate.upgrade(db.url, embedding_dim=embedding_dimension_for(s), revision=revision)
    now = migrate.current_revision(db.engine)
    if migrate.is_at_head(db.engine):  # the audit table has this lorebot's columns only at head
        record_once(db, "db upgrade", f"revision={revision}", f"ok: at {now}")
    typer.echo(f"database {db.safe_url} at {now}")


@app.command()
@friendly_errors
def downgrade(revision: str = typer.Argument(..., help="Target revision, or 'base'.")) -> None:
    """Migrate the database down to REVISION ('base' removes every lorebot table)."""
    s = settings()
    db = connect(s)
    if migrate.is_at_head(db.engine):  # recorded before: the table may go with the downgrade
        record_once(db, "db downgrade", f"revision={revision}",
                    f"started: from {migrate.current_revision(db.engine)}")
    migrate.downgrade(db.url, embedding_dim=embedding_dimension_for(s), revision=revision)
    typer.echo(f"database {db.safe_url} at {migrate.current_revision(db.engine) or 'base'}")


@app.command()
@friendly_errors
def current() -> None:
    """Show the database's revision and the newest one this lorebot knows."""
    db = connect(settings())
    rev = migrate.current_revision(db.engine) or "base (empty)"
    typer.echo(f"{db.safe_url}: {rev} (head is {migrate.head_revision()})")
