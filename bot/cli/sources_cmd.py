"""``lorebot sources add | list | show | remove``."""

from __future__ import annotations

import typer

from bot.cli.audited import audited
from bot.cli.common import echo, emit_json, friendly_errors, settings

app = typer.Typer(help="Knowledge sources: folders, web pages, git repositories, JSONL files. "
                  "On the host you are the operator: not limited by the CHAT_SOURCE_* allow-lists "
                  "that bind chat admins.",
                  no_args_is_help=True)


def _db():  # noqa: ANN202 - a Database; imported late so `lorebot --help` stays fast
    from bot.runtime import open_database

    return open_database(settings())


@app.command()
@friendly_errors
@audited("sources add")
def add(
    name: str = typer.Argument(..., help="A short name for the source, e.g. handbook."),
    location: str = typer.Argument(..., help="Folder, glob, file, URL, or git repository path."),
    kind: str = typer.Option(None, "--kind", help="folder | web | git | jsonl (guessed if omitted)."),
    collection: str = typer.Option(None, "--collection", help="Collection to put it in."),
    every: str = typer.Option(None, "--every", help="Re-ingest interval: 30m, 6h, 1d..."),
    cron: str = typer.Option(None, "--cron", help='Re-ingest cron schedule, e.g. "0 */6 * * *".'),
    as_json: bool = typer.Option(False, "--json", help="Print the source as JSON."),
) -> None:
    """Add a source (run `lorebot ingest NAME` to index it).

    This is the operator's command on the host: any folder or URL this user can read is
    accepted. Chat admins (`/lore admin sources add`) are limited to CHAT_SOURCE_FOLDER_ROOTS,
    CHAT_SOURCE_URL_HOSTS and CHAT_SOURCE_KINDS. Audited as cli:<os user>.
    """
    from bot.sources import add_source

    info = add_source(db=_db(), settings=settings(), name=name, location=location, kind=kind,
                      collection=collection, every=every, cron=cron)
    if as_json:
        emit_json(info.to_dict())
        return
    echo(f"added source {info.name} [{info.kind}] {info.location} -> collection "
               f"{info.collection}; run `lorebot ingest {info.name}` to index it")


@app.command("list")
@friendly_errors
def list_(
    collection: str = typer.Option(None, "--collection", help="Only this collection."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List sources with their status and size."""
    from bot.sources import list_source_infos, list_text

    db = _db()
    if as_json:
        emit_json([i.to_dict() for i in list_source_infos(db=db, collection=collection)])
    else:
        echo(list_text(db=db, collection=collection))


@app.command()
@friendly_errors
def show(name: str = typer.Argument(..., help="Source name.")) -> None:
    """Show a source: status, last run, counts and its last errors."""
    from bot.sources import describe_source

    echo(describe_source(db=_db(), name=name))


@app.command()
@friendly_errors
@audited("sources remove")
def remove(
    name: str = typer.Argument(..., help="Source name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Remove a source with all its documents and chunks."""
    from bot.sources import remove_source

    if not yes and not typer.confirm(f"remove source {name} and everything indexed from it?"):
        raise typer.Exit(1)
    echo(remove_source(db=_db(), name=name))
