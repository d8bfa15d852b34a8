"""Helpers shared by the CLI commands: settings, database, one-line errors, and terminal output.

Text that came from documents, chat or the database is printed through :func:`echo` /
:func:`secho`, which strip terminal escape sequences and control characters
(:func:`bot.hygiene.for_terminal`): an ANSI escape in a question listed by ``gaps`` must not
rewrite the operator's screen. ``emit_json`` needs no stripping: JSON escapes control characters.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from bot.hygiene import for_terminal
from bot.settings import ConfigError, Settings, get_settings

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(fn: F) -> F:
    """Turn a configuration or input error into one clear line and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ConfigError, ValueError, FileNotFoundError) as exc:
            secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from exc

    return wrapper  # type: ignore[return-value]


def echo(message: object = "", **kwargs: Any) -> None:
    """``typer.echo`` for text that may hold escapes or control characters (see module docstring)."""
    typer.echo(for_terminal(str(message)), **kwargs)


def secho(message: object = "", **kwargs: Any) -> None:
    """``typer.secho``, stripped like :func:`echo`; the colour is ours, not the text's."""
    typer.secho(for_terminal(str(message)), **kwargs)


def settings() -> Settings:
    return get_settings()


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def eval_collection_name(folder: Path, prefix: str = "eval") -> str:
    """``<prefix>-<folder>``, folded into a valid collection name (``SciFact Dev`` ->
    ``eval-scifact-dev``): the throw-away collection an evaluation ingests its corpus into."""
    import re

    slug = re.sub(r"[^a-z0-9_-]+", "-", folder.resolve().name.lower()).strip("-_") or "set"
    return f"{prefix}-{slug}"[:64]
