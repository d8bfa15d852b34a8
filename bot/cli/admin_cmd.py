"""``lorebot admin ...``: the chat admin commands, from a shell.

The rest of the command line goes, as text, to the same router Slack and Discord use, so
the words and results are the same everywhere. The shell user counts as an admin (see
:mod:`bot.admin.auth`).
"""

from __future__ import annotations

import getpass
import shlex
from typing import Any

import click
import typer
from typer.core import TyperGroup

from bot.cli.common import echo, friendly_errors, settings
from bot.types import Actor, ChannelRef


class _PassThrough(TyperGroup):
    """Every word after ``admin`` belongs to the router, so any first word runs ``run``."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        return "run", self.commands["run"], args


app = typer.Typer(
    cls=_PassThrough,
    help="Run an admin command, the same as in Slack or Discord. `lorebot admin help` lists them. "
         "Here you are the operator on the host: the chat limits (CHAT_SOURCE_FOLDER_ROOTS, "
         "CHAT_SOURCE_URL_HOSTS, exports only under LOREBOT_DATA_DIR/exports) do not apply. "
         "Every command is audited as cli:<os user>.",
    invoke_without_command=True,
    add_completion=False,
)


def cli_actor() -> Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        user = "unknown"
    return Actor(platform="cli", user_id=user)


def run_admin(words: list[str]) -> int:
    """Send ``words`` to the router as the shell user; print the result; return an exit code."""
    from bot.core import LoreBot

    text = " ".join(shlex.quote(w) for w in words) if words else "help"
    core = LoreBot.from_settings(settings())
    try:
        result = core.command(text, actor=cli_actor(), channel=ChannelRef("cli", "terminal"),
                              notify=echo)
        echo(result.text, err=not result.ok)
        # A long command answers "started"; the shell waits for its report before exiting.
        core.wait_for_background()
    finally:
        core.close()
    return 0 if result.ok else 1


@app.callback()
def _admin(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        raise typer.Exit(friendly_errors(run_admin)([]))


@app.command(
    "run", hidden=True, add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
def _run(ctx: typer.Context) -> None:
    code = friendly_errors(run_admin)(list(ctx.args))
    if code:
        raise typer.Exit(code)
