"""The shared windows of :mod:`bot.ratelimit`: one row per admitted question (per key).

Times are seconds since the epoch from the database's clock, so replicas whose clocks differ
still agree. Each check runs in one transaction holding an advisory lock per key, so two
replicas admitting questions for the same person or channel at once cannot both take the
last slot.
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from bot.db.models import QuestionRateEvent

LOCK_CLASS = 7171  # first half of the two-key advisory lock: "question rate limits"


def lock(*, session: Session, keys: list[str]) -> None:
    """Lock ``keys`` until the transaction ends, in a fixed order (no deadlock between replicas)."""
    for key in sorted(set(keys)):
        session.execute(text("SELECT pg_advisory_xact_lock(:c, hashtext(:k))"), {"c": LOCK_CLASS, "k": key})


def now(*, session: Session) -> float:
    return float(session.execute(select(func.extract("epoch", func.clock_timestamp()))).scalar_one())


def times(*, session: Session, key: str, after: float) -> list[float]:
    return [float(t) for t in session.execute(
        select(QuestionRateEvent.at).where(QuestionRateEvent.key == key, QuestionRateEvent.at > after)
        .order_by(QuestionRateEvent.at)).scalars()]


def record(*, session: Session, key: str, at: float) -> None:
    session.execute(insert(QuestionRateEvent).values(key=key, at=at))


def prune(*, session: Session, before: float) -> int:
    result = session.execute(delete(QuestionRateEvent).where(QuestionRateEvent.at <= before))
    return int(result.rowcount or 0)
