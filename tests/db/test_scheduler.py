"""The scheduler in one process: when runs are due, jobs per source, locks, pruning."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scheduler_replica import HashEmbedder
from sqlalchemy import select, text, update

from bot.core import LoreBot
from bot.db import events as events_db
from bot.db import feedback as feedback_db
from bot.db import interactions as interactions_db
from bot.db import sources as sources_db
from bot.db.locks import LOCK_CLASS
from bot.db.models import Chunk, IngestRun, Interaction, ProcessedEvent
from bot.scheduler import (
    Scheduler,
    is_due,
    next_due,
    slack_for,
)
from bot.types import Actor

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_interval_schedule_is_due_after_its_period_with_a_little_slack():
    assert next_due("every:6h", None, now=T0) == T0  # never ran: due now
    assert next_due("every:6h", T0, now=T0) == T0 + timedelta(hours=6)
    assert slack_for("every:6h") == timedelta(seconds=60)
    assert not is_due("every:6h", T0, now=T0 + timedelta(minutes=5))  # just ran elsewhere
    assert not is_due("every:6h", T0, now=T0 + timedelta(hours=5, minutes=58))
    # a timer firing a few seconds early (jitter, clock skew) still counts
    assert is_due("every:6h", T0, now=T0 + timedelta(hours=6) - timedelta(seconds=20))
    assert is_due("every:6h", T0, now=T0 + timedelta(days=3))
    assert slack_for("every:1m") == timedelta(seconds=6)  # never more than a tenth of the period


def test_cron_schedule_is_due_at_the_next_fire_time_after_the_last_run():
    assert next_due("cron:0 3 * * *", T0, now=T0) == datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    assert not is_due("cron:0 3 * * *", T0, now=datetime(2026, 3, 3, 2, 0, tzinfo=UTC))
    assert is_due("cron:0 3 * * *", T0, now=datetime(2026, 3, 3, 3, 0, 5, tzinfo=UTC))
    with pytest.raises(ValueError, match="cron"):
        next_due("cron:not a cron", T0)


def make_folder(tmp_path: Path, version: str = "v1", n: int = 3) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir(exist_ok=True)
    for i in range(n):
        (folder / f"page{i}.md").write_text(
            f"# Page {i}\n\nThis is page {i} of the handbook, version {version}. "
            f"It explains topic number {i} in a few plain words.\n")
    return folder


def add_source(database, name: str, location: str, schedule: str | None) -> int:
    with database.session() as s:
        return sources_db.create_source(session=s, name=name, kind="folder", location=location,
                                        collection="default", schedule=schedule).id


@pytest.fixture
def scheduler(settings, database):
    sched = Scheduler(settings=settings, db=database, embedder=HashEmbedder(), jitter=False)
    yield sched
    sched.shutdown(timeout_s=10)


def finished_run(database, source_id: int) -> None:
    with database.session() as s:
        run = sources_db.start_run(session=s, source_id=source_id, trigger="schedule")
        sources_db.finish_run(session=s, run_id=run.id, status="ok", counts={}, errors=[],
                              timings={})


def test_one_job_per_scheduled_source_rebuilt_when_sources_change(scheduler, database, tmp_path):
    a = add_source(database, "a", str(tmp_path), "every:6h")
    b = add_source(database, "b", str(tmp_path), "cron:0 3 * * *")
    manual = add_source(database, "manual", str(tmp_path), None)
    finished_run(database, b)
    scheduler.start(paused=True)
    jobs = scheduler.jobs()
    assert {k for k in jobs if k.startswith("source:")} == {f"source:{a}", f"source:{b}"}
    now = datetime.now(UTC)
    assert abs((jobs[f"source:{a}"] - now).total_seconds()) < 5  # never ran: runs right away
    assert jobs[f"source:{b}"] > now and (jobs[f"source:{b}"].hour, jobs[f"source:{b}"].minute) == (3, 0)
    assert {"lorebot:sync", "lorebot:prune", "lorebot:retrain"} <= set(jobs)

    with database.session() as s:
        sources_db.delete_source(session=s, name="a")
        sources_db.set_schedule(session=s, name="manual", schedule="every:1d")
    # what the admin router calls after add/remove; `lorebot serve` wires it to the scheduler
    LoreBot(settings=scheduler.settings, db=database, on_sources_changed=scheduler.refresh).sources_changed()
    jobs = scheduler.jobs()
    assert f"source:{a}" not in jobs
    assert f"source:{manual}" in jobs and f"source:{b}" in jobs


def test_sources_added_by_another_replica_are_picked_up_by_sync(scheduler, database, tmp_path):
    scheduler.start(paused=True)
    assert not [k for k in scheduler.jobs() if k.startswith("source:")]
    # another replica (or `lorebot sources add`) writes the row; this process was not told
    sid = add_source(database, "late", str(tmp_path), "every:2h")
    scheduler._sync()
    assert f"source:{sid}" in scheduler.jobs()


def test_run_source_takes_the_lock_and_runs_only_when_due(scheduler, database, tmp_path):
    from bot.metrics import REGISTRY

    def ok_runs() -> float:
        labels = {"trigger": "schedule", "status": "ok"}
        return REGISTRY.get_sample_value("lorebot_ingest_runs_total", labels) or 0.0

    before = ok_runs()
    folder = make_folder(tmp_path)
    sid = add_source(database, "docs", str(folder), "every:6h")
    assert scheduler.run_source(sid, "docs", "every:6h") == "ran"
    assert scheduler.run_source(sid, "docs", "every:6h") == "not-due"
    # another replica holds this source's lock: stand down without waiting
    with database.engine.connect() as other:
        assert other.execute(text("SELECT pg_try_advisory_lock(:c, :k)"),
                             {"c": LOCK_CLASS, "k": sid}).scalar()
        with database.session() as s:
            s.execute(update(IngestRun).values(started_at=datetime.now(UTC) - timedelta(hours=7)))
        assert scheduler.run_source(sid, "docs", "every:6h") == "busy"
        other.execute(text("SELECT pg_advisory_unlock(:c, :k)"), {"c": LOCK_CLASS, "k": sid})
        other.commit()
    assert scheduler.run_source(sid, "docs", "every:6h") == "ran"  # 7h later: due again
    with database.session() as s:
        runs = list(s.execute(select(IngestRun.status, IngestRun.trigger)).all())
        chunks = s.execute(select(Chunk.id)).all()
    assert runs == [("ok", "schedule"), ("ok", "schedule")]
    assert len(chunks) == 3
    assert ok_runs() == before + 2


def test_prune_blanks_old_interaction_text_but_keeps_corrections(scheduler, settings, database):
    asker = Actor("slack", "U1")
    with database.session() as s:
        ids = [interactions_db.save_interaction(
            session=s, settings=settings, asker=asker, platform="slack", channel="C",
            thread=None, question=f"secret question {i}", answer=f"answer {i}").id
            for i in range(3)]
        feedback_db.add_correction(session=s, interaction_id=ids[1], user_hash="admin",
                                   text="better answer")
        old = datetime.now(UTC) - timedelta(days=settings.interaction_retention_days + 1)
        s.execute(update(Interaction).where(Interaction.id.in_(ids[:2])).values(created_at=old))
        events_db.claim_event(session=s, platform="slack", event_id="Ev1")
        events_db.claim_event(session=s, platform="slack", event_id="Ev2")
        s.execute(update(ProcessedEvent).where(ProcessedEvent.event_id == "Ev1")
                  .values(created_at=old))
    assert scheduler.prune() == {"interactions": 1, "comments": 0, "audit": 0, "events": 1}
    with database.session() as s:
        rows = {r.id: r for r in s.execute(select(Interaction)).scalars()}
        evts = list(s.execute(select(ProcessedEvent.event_id)).scalars())
    assert rows[ids[0]].question == "[pruned]" and rows[ids[0]].answer == ""
    assert rows[ids[1]].question == "secret question 1"  # corrected: training data, kept
    assert rows[ids[2]].question == "secret question 2"  # recent
    assert evts == ["Ev2"]
    assert scheduler.prune() == {"interactions": 0, "comments": 0, "audit": 0, "events": 0}


def test_retraining_is_offered_to_the_fine_tuning_module_by_one_replica(scheduler, database,
                                                                        monkeypatch):
    from bot import style as api  # the bot's composition of finetune.api

    calls = []
    monkeypatch.setattr(api, "maybe_retrain", lambda **kw: calls.append(kw) or "trained")
    assert scheduler.maybe_retrain() == "trained"
    assert calls == [{"settings": scheduler.settings, "db": database}]
    from bot.db.locks import RETRAIN_LOCK

    with database.engine.connect() as other:  # another replica is deciding right now
        assert other.execute(text("SELECT pg_try_advisory_lock(:c, :k)"),
                             {"c": LOCK_CLASS, "k": RETRAIN_LOCK}).scalar()
        assert scheduler.maybe_retrain() is None
        other.rollback()
    assert len(calls) == 1
    scheduler.settings = scheduler.settings.model_copy(update={"style_model_enabled": False})
    assert scheduler.maybe_retrain() is None and len(calls) == 1


def test_after_a_run_the_job_is_lined_up_with_it(scheduler, database, tmp_path):
    sid = add_source(database, "docs", str(make_folder(tmp_path)), "every:6h")
    with database.session() as s:  # ran 7h ago: overdue, so the job runs at once...
        run = sources_db.start_run(session=s, source_id=sid, trigger="schedule")
        sources_db.finish_run(session=s, run_id=run.id, status="ok", counts={}, errors=[],
                              timings={})
        s.execute(update(IngestRun).values(started_at=datetime.now(UTC) - timedelta(hours=7)))
    scheduler.start(paused=True)
    job = f"source:{sid}"
    assert abs((scheduler.jobs()[job] - datetime.now(UTC)).total_seconds()) < 5
    assert scheduler.run_source(sid, "docs", "every:6h") == "ran"
    # ...and then six hours after that run, not at the old phase (5h from now)
    assert abs((scheduler.jobs()[job] - datetime.now(UTC)).total_seconds() - 6 * 3600) < 60


def test_shutdown_waits_for_a_running_job_that_reschedules_itself(settings, database, tmp_path):
    import threading

    sid = add_source(database, "docs", str(tmp_path), "every:6h")
    entered, release = threading.Event(), threading.Event()

    def slow_ingest(*, db, settings, name, trigger, embedder, lock_held):
        with db.session() as s:
            run_id = sources_db.start_run(session=s, source_id=sid, trigger=trigger).id
        entered.set()
        release.wait(20)
        with db.session() as s:
            sources_db.finish_run(session=s, run_id=run_id, status="ok", counts={}, errors=[],
                                  timings={})

    sched = Scheduler(settings=settings, db=database, ingest=slow_ingest, jitter=False)
    sched.start()  # never ran: fires at once
    assert entered.wait(20)
    result: list[bool] = []
    stopper = threading.Thread(target=lambda: result.append(sched.shutdown(timeout_s=15)))
    stopper.start()
    time.sleep(0.2)  # shutdown is now waiting for the job
    release.set()  # the job finishes, then lines its next run up (needs the job store)
    stopper.join(20)
    assert result == [True] and sched.outcomes == {"docs": "ran"}
    assert not sched.running
