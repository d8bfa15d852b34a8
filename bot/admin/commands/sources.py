"""``sources list | add | remove | reindex | show``: what lorebot knows and how fresh it is."""

from __future__ import annotations

import argparse
import importlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot import metrics
from bot.admin.commands._common import ago
from bot.admin.context import CommandContext
from bot.admin.registry import CommandSpec
from bot.db import sources as sources_db
from bot.db import stats
from bot.schedules import describe, to_schedule

ERRORS_SHOWN = 3


def _sources_changed() -> None:
    from bot.scheduler import notify_sources_changed

    notify_sources_changed()


def guess_kind(location: str) -> str:
    """The source kind a location most likely is, when ``--kind`` is not given."""
    loc = location.strip()
    if loc.endswith(".git") or loc.startswith("git@"):
        return "git"
    if loc.startswith(("http://", "https://")):
        return "web"
    if loc.endswith(".jsonl"):
        return "jsonl"
    return "folder"


def _list(ctx: CommandContext, args: argparse.Namespace) -> str:
    with ctx.db.session() as s:
        rows = sources_db.list_sources(session=s)
        if not rows:
            return "no sources yet; add one with `sources add NAME LOCATION`"
        lines = []
        for src in rows:
            counts = sources_db.source_counts(session=s, source_id=src.id)
            lines.append(
                f"{src.name} [{src.kind}] -> {src.collection.name}: {src.status}, "
                f"{counts['documents']} docs / {counts['chunks']} chunks, "
                f"last run {ago(src.last_run_at)}, {_schedule_words(src.schedule)}"
            )
    return "\n".join(lines)


def _schedule_words(schedule: str | None) -> str:
    try:
        return describe(schedule)
    except ValueError:
        return f"unreadable schedule {schedule!r}"


def _add(ctx: CommandContext, args: argparse.Namespace) -> str:
    kind = args.kind or guess_kind(args.location)
    location = args.location
    if kind == "folder":
        path = Path(location).expanduser()
        if not path.is_dir():
            raise ValueError(f"folder {location} does not exist on the lorebot server; give an "
                             "absolute path that does, or --kind for another kind of source")
        location = str(path.resolve())
    schedule = to_schedule(every=args.every, cron=args.cron)
    collection = args.collection or ctx.settings.default_collection
    with ctx.db.session() as s:
        sources_db.create_source(session=s, name=args.name, kind=kind, location=location,
                                 collection=collection, schedule=schedule)
    _sources_changed()
    return (f"added source {args.name} [{kind}] into collection {collection}, "
            f"{_schedule_words(schedule)}; run `sources reindex {args.name}` to ingest it now")


def _remove(ctx: CommandContext, args: argparse.Namespace) -> str:
    # delete_source commits between batches, so it gets a session of its own.
    with ctx.db.session() as s:
        removed = sources_db.delete_source(session=s, name=args.name)
    if removed is None:
        raise LookupError(f"no source named {args.name!r}; `sources list` shows them")
    _sources_changed()
    return (f"removed source {args.name} with {removed['documents']} documents and "
            f"{removed['chunks']} chunks")


def _pipeline() -> Any:
    return importlib.import_module("knowledge.pipeline")


def _count(result: Any) -> None:
    if result.status != "busy":
        metrics.count_ingest(trigger="admin", status=result.status, source=result.source)


def _reindex(ctx: CommandContext, args: argparse.Namespace) -> str:
    if bool(args.name) == bool(args.all):
        raise ValueError("give one source name, or --all")
    settings, db = ctx.settings, ctx.db
    if args.all:
        def work_all() -> str:
            results = _pipeline().ingest_all(db=db, settings=settings, trigger="admin")
            for r in results:
                _count(r)
            return "reindex finished:\n" + "\n".join(r.summary() for r in results)

        return ctx.start("reindex of every source", work_all)
    with db.session() as s:
        if sources_db.get_source(session=s, name=args.name) is None:
            raise LookupError(f"no source named {args.name!r}; `sources list` shows them")
    name = args.name

    def work() -> str:
        result = _pipeline().ingest_source(db=db, settings=settings, name=name, trigger="admin")
        _count(result)
        return f"reindex finished: {result.summary()}"

    return ctx.start(f"reindex of {name}", work)


def _show(ctx: CommandContext, args: argparse.Namespace) -> str:
    from bot.scheduler import next_due

    with ctx.db.session() as s:
        src = sources_db.get_source(session=s, name=args.name)
        if src is None:
            raise LookupError(f"no source named {args.name!r}; `sources list` shows them")
        counts = sources_db.source_counts(session=s, source_id=src.id)
        runs = sources_db.recent_runs(session=s, source_id=src.id, limit=5)
        last = stats.last_run_started(session=s, source_id=src.id)
    now = datetime.now(UTC)
    lines = [
        f"{src.name} [{src.kind}] {src.location}",
        f"collection: {src.collection.name}; status: {src.status}",
        f"documents: {counts['documents']}, chunks: {counts['chunks']}",
        f"schedule: {_schedule_words(src.schedule)}",
        f"last run: {ago(last, now=now)}; last success: {ago(src.last_success_at, now=now)}",
    ]
    if src.schedule:
        try:
            due = next_due(src.schedule, last, now=now)
            lines.append(f"next run: {'now' if due <= now else ago(due, now=now)}")
        except ValueError:
            pass
    if src.last_error:
        lines.append(f"last error: {src.last_error}")
    for run in runs:
        lines.append(f"  run {run.id} {run.trigger} {ago(run.started_at, now=now)}: {run.status}"
                     + "".join(f"\n    ! {e.get('external_id', '')}: {e.get('reason', '')}"
                               for e in (run.errors or [])[:ERRORS_SHOWN]))
    return "\n".join(lines)


def _add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name")
    p.add_argument("location")
    p.add_argument("--kind")
    p.add_argument("--collection")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--every")
    when.add_argument("--cron")


def _reindex_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?")
    p.add_argument("--all", action="store_true")


def specs() -> list[CommandSpec]:
    name_arg = lambda p: p.add_argument("name")  # noqa: E731
    return [
        CommandSpec(name="sources list", usage="sources list",
                    help="Every source with its collection, status, counts and schedule.",
                    handler=_list, read_only=True),
        CommandSpec(name="sources add",
                    usage='sources add NAME LOCATION [--kind K] [--collection C] '
                          '[--every 6h | --cron "0 */6 * * *"]',
                    help="Add a source (folder, web, git, jsonl, ...) and optionally a schedule.",
                    handler=_add, arguments=_add_args),
        CommandSpec(name="sources remove", usage="sources remove NAME",
                    help="Remove a source with its documents and chunks.",
                    handler=_remove, arguments=name_arg),
        CommandSpec(name="sources reindex", usage="sources reindex NAME|--all",
                    help="Ingest a source (or all) now; reports here when done.",
                    handler=_reindex, arguments=_reindex_args, long_running=True),
        CommandSpec(name="sources show", usage="sources show NAME",
                    help="A source's status, last and next run, counts and last errors.",
                    handler=_show, arguments=name_arg, read_only=True),
    ]
