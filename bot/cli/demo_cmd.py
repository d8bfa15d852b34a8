"""``lorebot demo``: embedded database -> sample knowledge ingested -> a question answered.

This is what ``make demo`` runs on a fresh machine; it is safe to run again (the ingest is
incremental, so a second run embeds nothing).
"""

from __future__ import annotations

from pathlib import Path

import typer

from bot.cli.common import echo, friendly_errors, secho

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_knowledge"
SAMPLE_SOURCE = "lorebot-docs"
DEFAULT_QUESTION = "How do I connect lorebot to Slack?"


def register(app: typer.Typer) -> None:
    @app.command()
    @friendly_errors
    def demo(
        question: str = typer.Option(DEFAULT_QUESTION, "--question", "-q",
                                     help="The question to ask at the end."),
    ) -> None:
        """Start the embedded database, ingest the bundled sample knowledge, answer a question."""
        from adapters.console import render
        from bot import sources as sources_service
        from bot.db import sources as sources_db
        from bot.ingest import ingest_source
        from bot.runtime import open_database
        from bot.settings import get_settings
        from bot.types import Actor, ChannelRef

        settings = get_settings()
        secho("1/3 database", bold=True)
        db = open_database(settings)
        echo(f"    {db.safe_url} ({'embedded' if db.embedded else 'DATABASE_URL'}), "
                   "migrated to head")
        try:
            with db.session() as s:
                exists = sources_db.get_source(session=s, name=SAMPLE_SOURCE) is not None
            if not exists:
                sources_service.add_source(db=db, settings=settings, name=SAMPLE_SOURCE,
                                           location=str(SAMPLE_DIR), kind="folder")
            secho(f"2/3 ingest {SAMPLE_DIR}", bold=True)
            result = ingest_source(db=db, settings=settings, name=SAMPLE_SOURCE,
                                   progress=True)
            echo(f"    {result.summary()}")
            if result.status in {"failed", "busy"}:
                raise typer.Exit(1)
            secho(f"3/3 ask: {question}", bold=True)
            from bot.core import LoreBot

            core = LoreBot(settings=settings, db=db)
            answer = core.ask(question, channel=ChannelRef("cli", "demo"),
                              asker=Actor("cli", "demo"))
            echo("")
            echo(render(answer))
            echo("\nnext: .venv/bin/lorebot chat  (or: lorebot ask \"...\", lorebot doctor)")
        finally:
            db.dispose()
