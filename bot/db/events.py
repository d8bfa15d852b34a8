"""Exactly-once handling of platform events across replicas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from bot.db.models import ProcessedEvent


def claim_event(*, session: Session, platform: str, event_id: str) -> bool:
    """Record ``event_id``; True only for the first claim, in any process."""
    stmt = (
        insert(ProcessedEvent)
        .values(platform=platform, event_id=event_id)
        .on_conflict_do_nothing()
        .returning(ProcessedEvent.event_id)
    )
    return session.execute(stmt).first() is not None


def prune_events(*, session: Session, older_than: timedelta = timedelta(days=2)) -> int:
    cutoff = datetime.now(UTC) - older_than
    result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.created_at < cutoff))
    return result.rowcount or 0
