"""Retention covers everything people wrote or are identified by: past
INTERACTION_RETENTION_DAYS the audit log loses raw chat ids and arguments, feedback loses its
comments (with the question/answer text as before), and the prune runs when the scheduler
(``lorebot serve``) starts, not only a period later."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.core import LoreBot
from bot.db import feedback as feedback_db
from bot.db import interactions as interactions_db
from bot.db.models import AuditLog, Feedback
from bot.scheduler import Scheduler
from bot.types import Actor, ChannelRef

pytestmark = pytest.mark.db


def _seed(settings, database) -> None:
    core = LoreBot(settings=settings.model_copy(update={"lorebot_admins": ["slack:UADMIN"]}),
                   db=database)
    chan = ChannelRef("slack", "C1")
    assert core.command("scope show slack:CSECRET", actor=Actor("slack", "UADMIN"), channel=chan).ok
    core.command("gaps --days 3", actor=Actor("slack", "UMEMBER"), channel=chan)
    with database.session() as s:
        iid = interactions_db.save_interaction(
            session=s, settings=settings, asker=Actor("slack", "UMEMBER"), platform="slack",
            channel="C1", thread=None, question="What is Alice's salary?", answer="No idea.").id
        feedback_db.upsert_vote(session=s, interaction_id=iid, user_hash="h", value=-1,
                                signal="button")
        assert feedback_db.add_comment(session=s, interaction_id=iid, user_hash="h",
                                       comment="Alice told me it is 90k, add that")
    old = datetime.now(UTC) - timedelta(days=settings.interaction_retention_days + 1)
    with database.session() as s:
        first = s.execute(select(AuditLog.id).order_by(AuditLog.id)).scalars().first()
        s.execute(update(AuditLog).where(AuditLog.id == first).values(created_at=old))
        s.execute(update(Feedback).values(created_at=old))
    # one recent row stays as it is
    core.command("scope show slack:CRECENT", actor=Actor("slack", "UADMIN"), channel=chan)


def _state(database):
    with database.session() as s:
        audits = [(a.actor, a.arguments, a.outcome)
                  for a in s.execute(select(AuditLog).order_by(AuditLog.id)).scalars()]
        comments = [f.comment for f in s.execute(select(Feedback)).scalars()]
    return audits, comments


def _check_pruned(database) -> None:
    audits, comments = _state(database)
    assert audits[0] == ("slack:[pruned]", "", "ok")
    assert audits[1][0] == "slack:UMEMBER"  # recent: who ran it is still known
    assert audits[2][0] == "slack:UADMIN" and "CRECENT" in audits[2][1]
    assert comments == [None]


def test_prune_drops_raw_ids_audit_arguments_and_comments(settings, database):
    _seed(settings, database)
    sched = Scheduler(settings=settings, db=database, jitter=False)
    counts = sched.prune()
    assert counts["audit"] == 1 and counts["comments"] == 1
    _check_pruned(database)
    assert sched.prune()["audit"] == 0  # nothing left to prune


def test_the_prune_runs_when_the_scheduler_starts(settings, database):
    _seed(settings, database)
    sched = Scheduler(settings=settings, db=database, jitter=False)
    sched.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _state(database)[1] != [None]:
            time.sleep(0.2)
    finally:
        sched.shutdown(timeout_s=10)
    _check_pruned(database)
