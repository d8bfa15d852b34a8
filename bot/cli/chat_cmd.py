"""``lorebot chat``: the console adapter, for trying lorebot without Slack or Discord."""

from __future__ import annotations

import typer

from bot.cli.common import friendly_errors, settings


def register(app: typer.Typer) -> None:
    @app.command()
    @friendly_errors
    def chat() -> None:
        """Ask questions in the terminal; +1/-1 votes; '/lore ...' runs admin commands."""
        from adapters.console import run_console
        from bot.core import LoreBot

        run_console(LoreBot.from_settings(settings()))
