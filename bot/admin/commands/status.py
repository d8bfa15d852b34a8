"""``status``: the health of the knowledge base and of the answers, for everyone."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from bot.admin.auth import is_admin
from bot.admin.commands._common import ago, human_bytes, since_days
from bot.admin.context import CommandContext
from bot.admin.registry import CommandSpec
from bot.db import scopes as scopes_db
from bot.db import stats

DAYS = 7


def _view(ctx: CommandContext) -> tuple[list[str] | None, tuple[str, str] | None]:
    """What this person may see: admins (and the CLI) the whole store; anyone else only what
    the channel they ask in may search (its scope, else the default collection), and only
    that channel's questions."""
    if is_admin(ctx.settings, ctx.actor) or ctx.channel.platform not in ("slack", "discord"):
        return None, None
    with ctx.db.session() as s:
        allowed = scopes_db.allowed_collections(
            session=s, platform=ctx.channel.platform, channel=ctx.channel.id,
            default_collection=ctx.settings.default_collection)
    return allowed, (ctx.channel.platform, ctx.channel.id)


def _status(ctx: CommandContext, args: argparse.Namespace) -> str:
    from bot.scheduler import next_due

    now = datetime.now(UTC)
    collections, channel = _view(ctx)
    with ctx.db.session() as s:
        counts = stats.store_counts(session=s, collections=collections)
        runs = stats.latest_runs(session=s, limit=1, collections=collections)
        upcoming = []
        for src in stats.source_schedules(session=s, collections=collections):
            if src.schedule:
                last = stats.last_run_started(session=s, source_id=src.id)
                try:
                    upcoming.append((next_due(src.schedule, last, now=now), src.name))
                except ValueError:
                    continue
        style = stats.active_style_model(session=s)
        q = stats.question_stats(session=s, since=since_days(DAYS), channel=channel)
    if collections is None:
        lines = [
            f"knowledge: {counts.documents} documents, {counts.chunks} chunks from "
            f"{counts.sources} sources ({human_bytes(counts.store_bytes)} on disk)",
        ]
    else:
        lines = [
            f"knowledge here ({', '.join(collections) or 'no collection'}): {counts.documents} "
            f"documents, {counts.chunks} chunks from {counts.sources} sources",
        ]
    if runs:
        name, run = runs[0]
        lines.append(f"last ingest: {name} {ago(run.started_at, now=now)} ({run.status})")
    else:
        lines.append("last ingest: none yet")
    if upcoming:
        when, name = min(upcoming)
        lines.append(f"next ingest: {name} {'now' if when <= now else ago(when, now=now)}")
    else:
        lines.append("next ingest: none scheduled")
    lines.append(f"style model: {style.version if style else 'none (plain grounded answers)'}")
    sat = f"{100 * q.satisfaction:.0f}% 👍" if q.satisfaction is not None else "no votes"
    where = "" if channel is None else " in this channel"
    lines.append(f"last {DAYS} days{where}: {q.questions} questions, {q.abstained} abstained, "
                 f"{q.up} 👍 / {q.down} 👎 ({sat})")
    return "\n".join(lines)


def specs() -> list[CommandSpec]:
    return [
        CommandSpec(
            name="status", usage="status",
            help="Documents, chunks, store size, ingest runs, style model and how answers "
                 f"were received over the last {DAYS} days (only what this channel may search, "
                 "for non-admins; answered privately).",
            handler=_status, read_only=True, public=True, private=True,
        )
    ]
