"""The ``lorebot`` command line. Each group lives in its own module."""

from __future__ import annotations

import os

import typer

from bot.cli import db_cmd
from bot.cli.doctor import doctor

# The hub is never reachable from a deployment that ships its models; do not wait on it.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

app = typer.Typer(
    name="lorebot",
    help="Answers your team's questions from your team's own knowledge, with sources.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_cmd.app, name="db")
app.command()(doctor)


@app.callback()
def _setup(
    log_level: str = typer.Option(None, "--log-level", help="Override LOREBOT_LOG_LEVEL."),
) -> None:
    from bot.logging import configure_logging
    from bot.settings import get_settings

    try:
        s = get_settings()
        configure_logging(log_level or s.lorebot_log_level, s.lorebot_log_format)
    except ValueError:
        configure_logging(log_level or "INFO")


@app.command()
def version() -> None:
    """Print the lorebot version."""
    from importlib.metadata import version as pkg_version

    typer.echo(f"lorebot {pkg_version('lorebot')}")


def _register_groups() -> None:
    """Every command group, imported explicitly: a module that fails to import fails loudly."""
    from bot.cli import (
        admin_cmd,
        ask_cmd,
        chat_cmd,
        demo_cmd,
        embeddings_cmd,
        eval_cmd,
        finetune_cmd,
        ingest_cmd,
        serve_cmd,
        sources_cmd,
    )

    app.add_typer(sources_cmd.app, name="sources")
    ingest_cmd.register(app)
    ask_cmd.register(app)
    app.add_typer(eval_cmd.app, name="eval")
    app.add_typer(admin_cmd.app, name="admin")
    serve_cmd.register(app)
    app.add_typer(finetune_cmd.app, name="finetune")
    app.add_typer(embeddings_cmd.app, name="embeddings")
    demo_cmd.register(app)
    chat_cmd.register(app)


_register_groups()
