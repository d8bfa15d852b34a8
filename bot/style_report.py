"""The style guard's rejections as ``finetune status`` shows them (CLI and admin command).

finetune/ stays free of bot/: the guard returns structured reasons, the answering service
stores their text with the interaction ("kind: what changed"), and this reads them back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.db import interactions as records
from bot.db.session import Database

WINDOW_DAYS = 7


def rejection_summary(*, db: Database, days: int = WINDOW_DAYS) -> str:
    """One line of counts by kind of change, then the newest reasons, or a line saying none."""
    since = datetime.now(UTC) - timedelta(days=days)
    with db.session() as s:
        counts, newest = records.style_rejections(session=s, since=since)
    if not counts:
        return f"no style rewrites rejected in the last {days} days"
    total = sum(counts.values())
    by_kind = ", ".join(f"{kind} {n}" for kind, n in counts.items())
    lines = [f"style rewrites rejected in the last {days} days: {total} ({by_kind}); the draft "
             "was sent instead"]
    lines += [f"  latest: {reason[:160]}" for reason in newest]
    return "\n".join(lines)
