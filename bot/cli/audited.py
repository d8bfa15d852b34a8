"""Audit rows for the CLI verbs that change state (``sources add/remove``, ``ingest``,
``finetune train/activate/rollback``, ``embeddings activate/rollback/adapt --activate``).

The operator on the host is not limited (they own the host), but what they changed is recorded
the same way as a chat admin's command: actor ``cli:<os user>``, written before the verb runs
and completed after with its outcome and duration. ``lorebot admin ...`` goes through the
router, which audits it already.

If the database cannot take the row the verb still runs (the operator could change the database
directly anyway) and a warning says the audit row is missing.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])


def _arguments(kwargs: dict[str, Any]) -> str:
    parts = []
    for key, value in kwargs.items():
        if value is None or value is False or key == "yes":
            continue
        parts.append(f"--{key.rstrip('_').replace('_', '-')}" if value is True else f"{key}={value}")
    return " ".join(parts)


def _open() -> Any:
    from bot.cli.common import settings
    from bot.runtime import open_database

    return open_database(settings())


def audited(command: str) -> Callable[[F], F]:
    """Audit the decorated typer command as ``command`` (put it under ``@friendly_errors``)."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from bot.admin.auth import CLI_PLATFORM
            from bot.cli.admin_cmd import cli_actor
            from bot.db import audit

            actor = cli_actor()
            row_id: int | None = None
            db = None
            try:
                db = _open()
                with db.session() as s:
                    row_id = audit.start_command(session=s, platform=CLI_PLATFORM, actor=actor.key,
                                                 channel="terminal", command=command,
                                                 arguments=_arguments(kwargs), allowed=True).id
            except Exception as exc:  # noqa: BLE001 - the operator's verb still runs
                typer.secho(f"warning: could not write the audit row ({type(exc).__name__})",
                            err=True, fg=typer.colors.YELLOW)
            started = time.monotonic()
            outcome = "error: interrupted"
            try:
                result = fn(*args, **kwargs)
                outcome = "ok"
                return result
            except typer.Exit as exc:
                outcome = "ok" if not exc.exit_code else f"error: exit {exc.exit_code}"
                raise
            except Exception as exc:
                outcome = f"error: {type(exc).__name__}: {exc}"
                raise
            finally:
                if db is not None and row_id is not None:
                    try:
                        with db.session() as s:
                            audit.finish_command(session=s, row_id=row_id, outcome=outcome,
                                                 duration_ms=int((time.monotonic() - started) * 1000))
                    except Exception:  # noqa: BLE001
                        typer.secho("warning: could not complete the audit row", err=True,
                                    fg=typer.colors.YELLOW)
                if db is not None:
                    db.dispose()

        return wrapper  # type: ignore[return-value]

    return wrap


def record_once(db: Any, command: str, arguments: str, outcome: str) -> bool:
    """One finished audit row for a verb that cannot be wrapped by :func:`audited`: ``db
    upgrade`` (the table may only exist afterwards) and ``db downgrade`` (recorded before, while
    the table still has this lorebot's columns). Best effort; False if it could not be written."""
    from bot.admin.auth import CLI_PLATFORM
    from bot.cli.admin_cmd import cli_actor
    from bot.db import audit

    try:
        with db.session() as s:
            audit.record_command(session=s, platform=CLI_PLATFORM, actor=cli_actor().key,
                                 channel="terminal", command=command, arguments=arguments,
                                 allowed=True, outcome=outcome)
    except Exception:  # noqa: BLE001 - e.g. an older schema without these columns
        typer.secho("warning: could not write the audit row", err=True, fg=typer.colors.YELLOW)
        return False
    return True
