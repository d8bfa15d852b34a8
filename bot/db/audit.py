"""The audit trail of admin commands: every command, allowed or refused, with its outcome.

A row is written *before* a command runs (:func:`start_command`, outcome ``running``) and
completed after it (:func:`finish_command`): a command that crashes the process, or a database
error after it ran, still leaves its row. Text is cleaned first (NUL bytes, which PostgreSQL
refuses, lone surrogates, control characters), so odd input can never lose the row, and
credentials in URLs (``sources add wiki https://user:pw@host``) are never written to it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from bot.db.models import AuditLog
from knowledge.redaction import strip_credentials_in

_MAX_ARGS = 2000
_MAX_OUTCOME = 4000
# C0 controls except tab and newline, DEL, C1 controls, and lone UTF-16 surrogates.
_BAD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(text: str, limit: int) -> str:
    """``text`` as the audit row can always hold it: bad characters become U+FFFD, cut at
    ``limit``."""
    return _BAD.sub("\ufffd", text or "")[:limit]


def start_command(
    *,
    session: Session,
    platform: str,
    actor: str,
    channel: str,
    command: str,
    arguments: str,
    allowed: bool,
    outcome: str = "running",
) -> AuditLog:
    """Write the row of a command about to run (or just refused); long text is cut, never
    dropped."""
    row = AuditLog(
        platform=clean(platform, 20),
        actor=clean(actor, 200),
        channel=clean(channel, 200),
        command=clean(command, 100),
        arguments=clean(strip_credentials_in(arguments or ""), _MAX_ARGS),
        allowed=allowed,
        outcome=clean(outcome, _MAX_OUTCOME),
    )
    session.add(row)
    session.flush()
    return row


def finish_command(*, session: Session, row_id: int, outcome: str, duration_ms: int | None,
                   allowed: bool | None = None) -> None:
    """Complete the row :func:`start_command` wrote with how the command ended."""
    row = session.get(AuditLog, row_id)
    if row is None:  # pruned meanwhile; nothing to complete
        return
    row.outcome = clean(outcome, _MAX_OUTCOME)
    row.finished_at = datetime.now(UTC)
    row.duration_ms = duration_ms
    if allowed is not None:
        row.allowed = allowed


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
    """Write one finished audit row at once (a refusal, the end of a background job)."""
    row = start_command(session=session, platform=platform, actor=actor, channel=channel,
                        command=command, arguments=arguments, allowed=allowed, outcome=outcome)
    row.finished_at = datetime.now(UTC)
    return row


def recent_commands(
    *, session: Session, limit: int = 50, actor: str | None = None
) -> list[AuditLog]:
    stmt = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if actor is not None:
        stmt = stmt.where(AuditLog.actor == actor)
    return list(session.execute(stmt).scalars())


PRUNED_ACTOR = "[pruned]"


def prune_audit(*, session: Session, older_than: datetime) -> int:
    """Past the retention, an audit row keeps what ran, when and how it ended, not who or with
    what: a chat actor's raw platform id becomes ``platform:[pruned]``, the arguments are
    blanked and the outcome is cut to its kind (``ok``, ``error``, ``refused``), which may
    otherwise quote questions (``gaps``) or corrections. The host's own ``cli:`` rows keep their
    OS user name: that is the operator, not a chat member."""
    result = session.execute(
        update(AuditLog)
        .where(and_(AuditLog.created_at < older_than,
                    or_(AuditLog.arguments != "",
                        and_(AuditLog.platform != "cli",
                             AuditLog.actor != AuditLog.platform + ":" + PRUNED_ACTOR))))
        .values(
            actor=case((AuditLog.platform == "cli", AuditLog.actor),
                       else_=AuditLog.platform + ":" + PRUNED_ACTOR),
            arguments="",
            outcome=func.split_part(AuditLog.outcome, ":", 1),
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
