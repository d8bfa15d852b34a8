"""What an app "home" shows a person, as neutral data (the Slack Home tab renders it).

Everyone sees what lorebot knows: its collections and sources with when each last synced.
Admins also see what needs them: sources whose last ingest failed, the week's knowledge gaps
(questions abstained on or voted down) and the week's satisfaction. Platform-free: adapters
turn :class:`HomeData` into their own views; buttons on it run ordinary admin commands.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.admin.auth import is_admin
from bot.db import sources as sources_db
from bot.db import stats as stats_db
from bot.db.session import Database
from bot.settings import Settings
from bot.types import (  # the neutral types adapters render; re-exported for callers
    Actor,
    AdminHome,
    CollectionInfo,
    GapInfo,
    HomeData,
    SourceInfo,
)

__all__ = ["AdminHome", "CollectionInfo", "GapInfo", "HomeData", "SourceInfo", "home_data"]

WEEK = timedelta(days=7)
FAILING = ("failed", "partial", "interrupted")
MAX_GAPS = 5  # newest shown; the `gaps` command groups them all


def home_data(*, db: Database, settings: Settings, viewer: Actor,
              now: datetime | None = None) -> HomeData:
    """The home of ``viewer``; the admin part only when ``viewer`` is an admin (same rule as
    the admin commands, :func:`bot.admin.auth.is_admin`)."""
    now = now or datetime.now(UTC)
    since = now - WEEK
    with db.session() as s:
        rows = sources_db.list_sources(session=s)
        sources = [SourceInfo(name=r.name, kind=r.kind, collection=r.collection.name, status=r.status,
                              last_synced=r.last_success_at, last_error=r.last_error) for r in rows]
        per_collection: dict[str, int] = {}
        for src in sources:
            per_collection[src.collection] = per_collection.get(src.collection, 0) + 1
        collections = [CollectionInfo(name=c.name, description=c.description,
                                      sources=per_collection.get(c.name, 0))
                       for c in sources_db.list_collections(session=s)]
        admin = None
        if is_admin(settings, viewer):
            gaps = stats_db.gap_questions(session=s, since=since)
            q = stats_db.question_stats(session=s, since=since)
            admin = AdminHome(
                failing=[src for src in sources if src.status in FAILING],
                gaps=[GapInfo(question=g.question, abstained=g.abstained, downvotes=g.downvotes,
                              asked_at=g.asked_at) for g in gaps[:MAX_GAPS]],
                gap_count=len(gaps), questions=q.questions, abstained=q.abstained, up=q.up,
                down=q.down, since=since)
    return HomeData(collections=collections, sources=sources,
                    default_collection=settings.default_collection, admin=admin, generated_at=now)
