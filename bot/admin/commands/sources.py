"""``sources list | add | remove | reindex | show``: what lorebot knows and how fresh it is."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from bot import metrics
from bot.admin.context import CommandContext
from bot.admin.registry import CommandSpec
from bot.db import sources as sources_db
from bot.db import stats
from bot.schedules import describe


def _sources_changed(ctx: CommandContext) -> None:
    ctx.sources_changed()


def _list(ctx: CommandContext, args: argparse.Namespace) -> str:
    from bot.sources import list_text

    return list_text(db=ctx.db)


def _schedule_words(schedule: str | None) -> str:
    try:
        return describe(schedule)
    except ValueError:
        return f"unreadable schedule {schedule!r}"


def _add(ctx: CommandContext, args: argparse.Namespace) -> str:
    from bot.sources import add_source
    from knowledge.sources.registry import guess_kind

    kind, location = args.kind, args.location
    if not ctx.from_host:  # chat admins only within the operator's allow-lists
        from bot.admin.places import confine_source

        kind = (kind or guess_kind(location)).lower()
        location = confine_source(ctx.settings, kind=kind, location=location)
    info = add_source(db=ctx.db, settings=ctx.settings, name=args.name, location=location,
                      kind=kind, collection=args.collection, every=args.every,
                      cron=args.cron)
    _sources_changed(ctx)
    return (f"added source {info.name} [{info.kind}] into collection {info.collection}, "
            f"{_schedule_words(info.schedule)}; run `sources reindex {info.name}` to ingest it now")


def _remove(ctx: CommandContext, args: argparse.Namespace) -> str:
    from bot.sources import remove_source

    if not ctx.from_host:  # a source the operator added outside the chat allow-lists stays theirs
        from bot.admin.places import confine_source

        with ctx.db.session() as s:
            src = sources_db.get_source(session=s, name=args.name)
            kind, location = (src.kind, src.location) if src is not None else (None, None)
        if kind is not None and location is not None:
            confine_source(ctx.settings, kind=kind, location=location)

    message = remove_source(db=ctx.db, name=args.name)
    _sources_changed(ctx)
    return message


def _pipeline() -> Any:
    # Imported on use: ingestion pulls in the embedding stack, which most commands never need.
    from bot import ingest

    return ingest


def _count(result: Any) -> None:
    if result.status != "busy":
        metrics.count_ingest(trigger="admin", status=result.status, source=result.source)


def _reindex(ctx: CommandContext, args: argparse.Namespace) -> str:
    if bool(args.name) == bool(args.all):
        raise ValueError("give one source name, or --all")
    settings, db = ctx.settings, ctx.db
    allow = bool(args.allow_mass_delete)
    if allow and args.all and not ctx.from_host:
        raise ValueError("from chat, confirm a mass delete one source at a time: "
                         "`sources reindex NAME --allow-mass-delete`")
    if args.all:
        def work_all() -> str:
            results = _pipeline().ingest_all(db=db, settings=settings, trigger="admin",
                                             allow_mass_delete=allow)
            for r in results:
                _count(r)
            return "reindex finished:\n" + "\n".join(r.summary() for r in results)

        return ctx.start("reindex of every source", work_all)
    with db.session() as s:
        if sources_db.get_source(session=s, name=args.name) is None:
            raise LookupError(f"no source named {args.name!r}; `sources list` shows them")
    name = args.name

    def work() -> str:
        result = _pipeline().ingest_source(db=db, settings=settings, name=name, trigger="admin",
                                           allow_mass_delete=allow)
        _count(result)
        return f"reindex finished: {result.summary()}"

    return ctx.start(f"reindex of {name}", work)


def _show(ctx: CommandContext, args: argparse.Namespace) -> str:
    from bot.scheduler import next_due
    from bot.sources import describe_source

    with ctx.db.session() as s:
        src = sources_db.get_source(session=s, name=args.name)
        if src is None:
            raise LookupError(f"no source named {args.name!r}; `sources list` shows them")
        last = stats.last_run_started(session=s, source_id=src.id)
        schedule = src.schedule
    due = None
    if schedule:
        try:
            due = max(next_due(schedule, last), datetime.now(UTC))
        except ValueError:
            due = None
    return describe_source(db=ctx.db, name=args.name, next_run=due)


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
    p.add_argument("--allow-mass-delete", action="store_true")


def specs() -> list[CommandSpec]:
    name_arg = lambda p: p.add_argument("name")  # noqa: E731
    return [
        CommandSpec(name="sources list", usage="sources list",
                    help="Every source with its collection, status, counts and schedule.",
                    handler=_list, read_only=True),
        CommandSpec(name="sources add",
                    usage='sources add NAME LOCATION [--kind K] [--collection C] '
                          '[--every 6h | --cron "0 */6 * * *"]',
                    help="Add a source (folder, web, git, jsonl, ...) and optionally a schedule. "
                         "From chat only under CHAT_SOURCE_FOLDER_ROOTS / CHAT_SOURCE_URL_HOSTS.",
                    handler=_add, arguments=_add_args),
        CommandSpec(name="sources remove", usage="sources remove NAME", completes=("source",),
                    help="Remove a source with its documents and chunks.",
                    handler=_remove, arguments=name_arg),
        CommandSpec(name="sources reindex", usage="sources reindex NAME|--all [--allow-mass-delete]",
                    completes=("source",),
                    help="Ingest a source (or all) now; reports here when done. "
                         "--allow-mass-delete confirms a run that drops most (or all) of a "
                         "source's documents.",
                    handler=_reindex, arguments=_reindex_args, long_running=True),
        CommandSpec(name="sources show", usage="sources show NAME", completes=("source",),
                    help="A source's status, last and next run, counts and last errors.",
                    handler=_show, arguments=name_arg, read_only=True),
    ]
