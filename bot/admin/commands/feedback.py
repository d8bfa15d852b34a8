"""``feedback stats [--days N] | export PATH``."""

from __future__ import annotations

import argparse
import json
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


def _export(ctx: CommandContext, args: argparse.Namespace) -> str:
    path = Path(args.path).expanduser()
    if path.exists() and not args.overwrite:
        raise FileExistsError(f"{path} already exists; pick another path or add --overwrite")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {path.parent} does not exist; create it first")
    since = since_days(args.days) if args.days else None
    tmp = path.with_name(path.name + ".partial")
    count = 0
    # Written aside and renamed, so a failed export never leaves a half file under PATH.
    with ctx.db.session() as s, tmp.open("w", encoding="utf-8") as out:
        for row in stats.feedback_rows(session=s, since=since):
            out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            count += 1
    tmp.replace(path)
    return f"exported {count} feedback rows to {path.resolve()}"


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
            help="Write every vote with its question and answer as JSON lines to PATH "
                 "on the server.",
            handler=_export, arguments=_export_args,
        ),
    ]
