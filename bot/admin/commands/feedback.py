"""``feedback stats [--days N] | export PATH``."""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bot.admin.commands._common import add_days, since_days
from bot.admin.context import CommandContext
from bot.admin.registry import CommandSpec
from bot.db import stats


def _stats(ctx: CommandContext, args: argparse.Namespace) -> str:
    with ctx.db.session() as s:
        fb = stats.feedback_stats(session=s, since=since_days(args.days))
        q = stats.question_stats(session=s, since=since_days(args.days))
    votes = fb["up"] + fb["down"]
    share = f"{100 * fb['up'] / votes:.0f}% positive" if votes else "no votes yet"
    signals = ", ".join(f"{k} {v}" for k, v in sorted(fb["by_signal"].items())) or "none"
    return (
        f"feedback over the last {args.days} days: {fb['up']} 👍, {fb['down']} 👎 ({share}) "
        f"on {fb['answers_voted']} answers; {fb['comments']} comments, "
        f"{fb['corrections']} corrections\n"
        f"questions: {q.questions}, abstained: {q.abstained}\n"
        f"by signal: {signals}"
    )


_EXPORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def export_target(ctx: CommandContext, given: str) -> Path:
    """Where ``feedback export`` may write ``given``.

    From chat: only a bare file name, inside ``LOREBOT_DATA_DIR/exports`` (a chat admin must not
    pick files on the host). From the CLI (the operator): any path.
    """
    if ctx.from_host:
        path = Path(given).expanduser()
        if not path.parent.is_dir():
            raise FileNotFoundError(f"folder {path.parent} does not exist; create it first")
        return path
    if not _EXPORT_NAME.match(given) or ".." in given:
        raise ValueError(f"from chat, give a plain file name (letters, digits, '.', '_', '-'), not "
                         f"{given!r}: exports are written to LOREBOT_DATA_DIR/exports on the server")
    folder = Path(ctx.settings.lorebot_data_dir) / "exports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder / given


def write_exclusive(path: Path, lines: Iterator[str], *, overwrite: bool) -> None:
    """Write ``lines`` to ``path`` without ever opening an existing file or following a link.

    The text goes to a temporary file created exclusively (O_CREAT|O_EXCL) beside ``path``,
    then takes ``path``'s place: hard-linked (which fails if anything, a planted symlink too,
    is there already) or, with ``overwrite``, renamed over it (which replaces a symlink itself
    and truncates no file it points to). A failure leaves no half file under ``path``.
    """
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give a file name")
    if not overwrite and (path.exists() or path.is_symlink()):
        raise FileExistsError(f"{path} already exists; pick another name or add --overwrite")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            for line in lines:
                out.write(line)
            out.flush()
            os.fsync(out.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise FileExistsError(f"{path} already exists; pick another name or add "
                                      "--overwrite") from None
            tmp.unlink()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _export(ctx: CommandContext, args: argparse.Namespace) -> str:
    path = export_target(ctx, args.path)
    since = since_days(args.days) if args.days else None
    counter = [0]

    def rows() -> Iterator[str]:
        with ctx.db.session() as s:
            for row in stats.feedback_rows(session=s, since=since):
                counter[0] += 1
                yield json.dumps(row, ensure_ascii=False, default=str) + "\n"

    write_exclusive(path, rows(), overwrite=args.overwrite)
    return f"exported {counter[0]} feedback rows to {path}"


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path")
    p.add_argument("--days", type=int, default=None)
    p.add_argument("--overwrite", action="store_true")


def specs() -> list[CommandSpec]:
    return [
        CommandSpec(
            name="feedback stats", usage="feedback stats [--days N]",
            help="Votes, comments and corrections over the last N days (default 30).",
            handler=_stats, arguments=lambda p: add_days(p, 30), read_only=True,
        ),
        CommandSpec(
            name="feedback export", usage="feedback export PATH [--days N] [--overwrite]",
            help="Write every vote with its question and answer as JSON lines to "
                 "PATH on the server: from chat a plain file name, written under "
                 "LOREBOT_DATA_DIR/exports (`lorebot admin` on the host takes any path).",
            handler=_export, arguments=_export_args,
        ),
    ]
