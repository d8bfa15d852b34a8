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


def _register_optional_groups() -> None:
    """Command groups added by later modules register themselves here."""
    import importlib

    for module, name in [
        ("bot.cli.sources_cmd", "sources"),
        ("bot.cli.ingest_cmd", None),
        ("bot.cli.ask_cmd", None),
        ("bot.cli.eval_cmd", "eval"),
        ("bot.cli.admin_cmd", "admin"),
        ("bot.cli.serve_cmd", None),
        ("bot.cli.finetune_cmd", "finetune"),
        ("bot.cli.embeddings_cmd", "embeddings"),
        ("bot.cli.demo_cmd", None),
        ("bot.cli.chat_cmd", None),
    ]:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue
            raise
        mod.register(app) if name is None else app.add_typer(mod.app, name=name)


_register_optional_groups()
