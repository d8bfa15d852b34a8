"""The audit trail of admin commands: every command, allowed or refused, with its outcome."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import AuditLog

_MAX_ARGS = 2000
_MAX_OUTCOME = 4000


def record_command(
    *,
    session: Session,
    platform: str,
    actor: str,
    channel: str,
    command: str,
    arguments: str,
    allowed: bool,
    outcome: str,
) -> AuditLog:
    """Write one audit row; long arguments and outcomes are cut, never dropped."""
    row = AuditLog(
        platform=platform[:20],
        actor=actor[:200],
        channel=channel[:200],
        command=command[:100],
        arguments=arguments[:_MAX_ARGS],
        allowed=allowed,
        outcome=outcome[:_MAX_OUTCOME],
    )
    session.add(row)
    session.flush()
    return row


def recent_commands(
    *, session: Session, limit: int = 50, actor: str | None = None
) -> list[AuditLog]:
    stmt = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if actor is not None:
        stmt = stmt.where(AuditLog.actor == actor)
    return list(session.execute(stmt).scalars())
