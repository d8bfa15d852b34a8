"""``lorebot ingest [NAME | --all] [--json] [--reembed]``."""

from __future__ import annotations

import sys

import typer

from bot.cli.audited import audited
from bot.cli.common import echo, emit_json, friendly_errors, settings


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)


@friendly_errors
@audited("ingest")
def ingest(
    name: str = typer.Argument(None, help="The source to ingest (see `lorebot sources list`)."),
    all_: bool = typer.Option(False, "--all", help="Ingest every source."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    reembed: bool = typer.Option(
        False, "--reembed", help="Recompute every stored vector with the configured embedding model "
        "(after changing EMBEDDING_MODEL); use with --all."),
    allow_mass_delete: bool = typer.Option(
        False, "--allow-mass-delete", help="Let this run delete more than INGEST_MAX_DELETE_FRACTION "
        "of a source's documents, or all of them (without it such a run deletes nothing)."),
) -> None:
    """Index new and changed documents of a source, drop deleted ones, and report the run."""
    from bot.ingest import ingest_all, ingest_source
    from bot.runtime import open_database

    if bool(name) == all_:
        raise ValueError("give a source NAME or --all (not both)")
    if reembed and not all_:
        raise ValueError("--reembed re-embeds the whole store: use `lorebot ingest --all --reembed`")
    s = settings()
    db = open_database(s)
    progress = not as_json and sys.stderr.isatty()
    if all_:
        results = ingest_all(db=db, settings=s, progress=progress, reembed=reembed,
                             allow_mass_delete=allow_mass_delete)
        if not results:
            raise ValueError("there are no sources yet; add one with `lorebot sources add NAME LOCATION`")
    else:
        results = [ingest_source(db=db, settings=s, name=name, progress=progress,
                                 allow_mass_delete=allow_mass_delete)]
    if as_json:
        emit_json([r.to_dict() for r in results] if all_ else results[0].to_dict())
    else:
        for r in results:
            echo(r.summary())
            for err in r.errors[:10]:
                echo(f"  - {err.get('external_id') or '(source)'}: {err.get('reason')}", err=True)
            if len(r.errors) > 10:
                echo(f"  ... and {len(r.errors) - 10} more (`lorebot sources show {r.source}`)",
                           err=True)
    if any(r.status in ("failed", "busy") for r in results):
        raise typer.Exit(1)
