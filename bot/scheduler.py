"""Scheduled work: re-ingesting sources, pruning old text, retraining the style model.

Several ``lorebot serve`` replicas may share one database and each runs this scheduler.
A scheduled ingest must still run once per due time, so every run (1) takes the source's
advisory lock (``bot.db.locks``, the same one a manual ingest takes), without waiting, and
(2) under that lock re-reads when the source last ran and skips if it is not due: a replica
that gets the lock just after another finished sees the fresh ``last_run_at`` and stands
down. The ingest then runs under that one lock. A killed process drops its connection, so
its lock goes with it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import metrics
from bot.db import stats
from bot.db.locks import PRUNE_LOCK, RETRAIN_LOCK, advisory_lock, source_lock
from bot.db.session import Database
from bot.inflight import InFlight
from bot.settings import Settings

log = logging.getLogger(__name__)

SYNC_JOB, PRUNE_JOB, RETRAIN_JOB = "lorebot:sync", "lorebot:prune", "lorebot:retrain"
SOURCE_JOB_PREFIX = "source:"
PROCESSED_EVENTS_KEEP = timedelta(days=2)

Ingest = Callable[..., Any]



# --- when is a run due (pure; also used by `status` and `sources show`) ---

def _parse(schedule: str) -> tuple[str, str]:
    from bot.schedules import parse_schedule

    return parse_schedule(schedule)


def _interval(value: str) -> timedelta:
    from bot.schedules import parse_every

    return parse_every(value)


def _cron(value: str) -> CronTrigger:
    return CronTrigger.from_crontab(value, timezone=UTC)


def period(schedule: str) -> timedelta:
    """The (typical) time between two runs of a schedule."""
    kind, value = _parse(schedule)
    if kind == "every":
        return _interval(value)
    trigger = _cron(value)
    first = trigger.get_next_fire_time(None, datetime.now(UTC))
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
    return (second - first) if first and second else timedelta(days=1)


def jitter_for(schedule: str) -> int:
    """Seconds of random delay: spreads replicas' start, small next to the period."""
    return int(min(30.0, period(schedule).total_seconds() * 0.05))


def slack_for(schedule: str) -> timedelta:
    """How early a run may be and still count as due.

    Larger than the jitter, so two replicas whose timers fire a few seconds before the due
    time do not both stand down; much smaller than the period, so a run just done is not due.
    """
    p = period(schedule)
    return min(p * 0.1, max(timedelta(seconds=60), timedelta(seconds=2 * jitter_for(schedule))))


def next_due(schedule: str, last_run: datetime | None, *, now: datetime | None = None) -> datetime:
    """When the next run of ``schedule`` is due, given when it last ran (never: now)."""
    now = now or datetime.now(UTC)
    if last_run is None:
        return now
    kind, value = _parse(schedule)
    if kind == "every":
        return last_run + _interval(value)
    nxt = _cron(value).get_next_fire_time(None, last_run + timedelta(seconds=1))
    return nxt or now


def is_due(schedule: str, last_run: datetime | None, *, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return next_due(schedule, last_run, now=now) - slack_for(schedule) <= now


class Scheduler:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        ingest: Ingest | None = None,
        embedder: Any = None,
        jitter: bool = True,
        sync_every_s: float = 60.0,
        prune_every_s: float = 6 * 3600.0,
        retrain_every_s: float = 3600.0,
        misfire_grace_s: int = 600,
    ) -> None:
        self.settings = settings
        self.db = db
        self._ingest = ingest
        self.embedder = embedder
        self.jitter = jitter
        self.sync_every_s = sync_every_s
        self.prune_every_s = prune_every_s
        self.retrain_every_s = retrain_every_s
        self.misfire_grace_s = misfire_grace_s
        self.outcomes: dict[str, str] = {}
        self._fingerprint: tuple[Any, ...] | None = None
        self._refresh_lock = threading.Lock()
        self._jobs_running = InFlight()
        self._aps = BackgroundScheduler(timezone=UTC, job_defaults={
            "max_instances": 1, "coalesce": True, "misfire_grace_time": misfire_grace_s,
        })
        self._aps.add_listener(self._on_job_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    # --- lifecycle ---
    def start(self, *, paused: bool = False) -> None:
        self.refresh()
        self._aps.add_job(self._sync, "interval", seconds=self.sync_every_s, id=SYNC_JOB,
                          replace_existing=True)
        # First at start (a restart loop must not postpone retention forever), then periodically.
        self._aps.add_job(self.prune, "interval", seconds=self.prune_every_s, id=PRUNE_JOB,
                          replace_existing=True, jitter=60 if self.jitter else None,
                          next_run_time=datetime.now(UTC))
        self._aps.add_job(self.maybe_retrain, "interval", seconds=self.retrain_every_s,
                          id=RETRAIN_JOB, replace_existing=True, jitter=60 if self.jitter else None)
        self._aps.start(paused=paused)
        log.info("scheduler started", extra={"jobs": len(self._aps.get_jobs())})

    def shutdown(self, *, timeout_s: float = 10.0) -> bool:
        """Stop firing jobs and wait up to ``timeout_s`` for running ones; True if all ended.

        APScheduler's own ``shutdown(wait=True)`` waits while holding the job-store lock that
        a running job needs to reschedule itself, so the wait happens here instead.
        """
        if not self._aps.running:
            return True
        self._aps.pause()
        finished = self._jobs_running.wait(timeout_s)
        self._aps.shutdown(wait=False)
        if not finished:
            log.warning("scheduled jobs still running at shutdown; their locks go with the process")
        return finished

    def _job(self) -> AbstractContextManager[None]:
        return self._jobs_running.track()

    @property
    def running(self) -> bool:
        return bool(self._aps.running)

    def jobs(self) -> dict[str, datetime | None]:
        return {job.id: job.next_run_time for job in self._aps.get_jobs()}

    # --- source jobs ---
    def refresh(self) -> None:
        """Rebuild one job per scheduled source from the ``sources`` table."""
        with self._refresh_lock:
            with self.db.session() as s:
                sources = [(src.id, src.name, src.schedule,
                            stats.last_run_started(session=s, source_id=src.id))
                           for src in stats.source_schedules(session=s)]
            self._fingerprint = tuple((sid, name, sched) for sid, name, sched, _ in sources)
            wanted: set[str] = set()
            now = datetime.now(UTC)
            for source_id, name, schedule, last_run in sources:
                if not schedule:
                    continue
                try:
                    trigger = self._trigger(schedule, last_run, now)
                except ValueError as exc:
                    log.error("source %s has a bad schedule %r (%s); not scheduled",
                              name, schedule, exc)
                    continue
                job_id = f"{SOURCE_JOB_PREFIX}{source_id}"
                wanted.add(job_id)
                kwargs: dict[str, Any] = {}
                if next_due(schedule, last_run, now=now) <= now:
                    # Overdue (never ran, or missed while no replica was up): run soon.
                    delay = random.uniform(0, jitter_for(schedule)) if self.jitter else 0
                    kwargs["next_run_time"] = now + timedelta(seconds=delay)
                self._aps.add_job(self.run_source, trigger, args=[source_id, name, schedule],
                                  id=job_id, name=f"ingest {name}", replace_existing=True,
                                  **kwargs)
            for job in self._aps.get_jobs():
                if job.id.startswith(SOURCE_JOB_PREFIX) and job.id not in wanted:
                    job.remove()

    def _trigger(self, schedule: str, last_run: datetime | None, now: datetime) -> Any:
        kind, value = _parse(schedule)
        jitter = jitter_for(schedule) if self.jitter else None
        if kind == "every":
            interval = _interval(value)
            anchor = next_due(schedule, last_run, now=now)
            while anchor <= now:
                anchor += interval
            return IntervalTrigger(seconds=int(interval.total_seconds()), start_date=anchor,
                                   timezone=UTC, jitter=jitter)
        return CronTrigger(**_cron_fields(value), timezone=UTC, jitter=jitter)

    def _sync(self) -> None:
        """Pick up sources added or changed through another replica."""
        with self.db.session() as s:
            current = tuple((src.id, src.name, src.schedule)
                            for src in stats.source_schedules(session=s))
        if current != self._fingerprint:
            log.info("sources changed; rebuilding scheduled jobs")
            self.refresh()

    def run_source(self, source_id: int, name: str, schedule: str) -> str:
        """The job body: ingest ``name`` if no replica is on it and it is still due."""
        with self._job():
            outcome = self._run_source(source_id, name, schedule)
            if outcome in ("ran", "not-due"):
                self._reanchor(source_id, schedule)
            return outcome

    def _reanchor(self, source_id: int, schedule: str) -> None:
        """Line the job's next fire time up with the last finished run (from any replica).

        Without this an interval job keeps the phase it got at start-up, so after a catch-up
        run, a manual reindex or another replica's run it would fire while not yet due, skip,
        and wait almost a whole extra period.
        """
        job = self._aps.get_job(f"{SOURCE_JOB_PREFIX}{source_id}")
        if job is None:
            return
        with self.db.session() as s:
            last_run = stats.last_run_started(session=s, source_id=source_id)
        try:
            job.reschedule(self._trigger(schedule, last_run, datetime.now(UTC)))
        except ValueError:
            log.exception("could not reschedule source %s", source_id)

    def _run_source(self, source_id: int, name: str, schedule: str) -> str:
        with source_lock(self.db, source_id) as got:
            if not got:
                return self._outcome(name, "busy")
            with self.db.session() as s:
                last_run = stats.last_run_started(session=s, source_id=source_id)
            if not is_due(schedule, last_run):
                return self._outcome(name, "not-due")
            try:
                result = self.ingest(name)
            except Exception:
                metrics.count_ingest(trigger="schedule", status="failed", source=name)
                log.exception("scheduled ingest of %s crashed", name)
                return self._outcome(name, "failed")
            status = str(getattr(result, "status", "ok"))
            if status != "busy":
                metrics.count_ingest(trigger="schedule", status=status, source=name)
            if status == "busy":
                return self._outcome(name, "busy")
            return self._outcome(name, "ran")

    def ingest(self, name: str) -> Any:
        """Ingest ``name``; the caller holds the source's lock (``lock_held``)."""
        ingest = self._ingest
        if ingest is None:
            from bot.ingest import ingest_source as ingest
        return ingest(db=self.db, settings=self.settings, name=name, trigger="schedule",
                      embedder=self.embedder, lock_held=True)

    def _outcome(self, name: str, outcome: str) -> str:
        if outcome in ("busy", "not-due"):
            metrics.SCHEDULED_SKIPS.labels(reason=outcome).inc()
        self.outcomes[name] = outcome
        log.info("scheduled ingest of %s: %s", name, outcome)
        return outcome

    # --- maintenance ---
    def prune(self) -> dict[str, int]:
        """Past INTERACTION_RETENTION_DAYS: blank interaction text and feedback comments, drop
        raw chat ids and arguments from the audit log; forget old platform event ids."""
        from bot.db import audit, events
        from bot.db import feedback as feedback_db

        with self._job(), advisory_lock(self.db, PRUNE_LOCK) as got:
            if not got:
                return {}
            cutoff = datetime.now(UTC) - timedelta(days=self.settings.interaction_retention_days)
            with self.db.session() as s:
                texts = stats.prune_interaction_text(session=s, older_than=cutoff)
                comments = feedback_db.prune_comments(session=s, older_than=cutoff)
                audited = audit.prune_audit(session=s, older_than=cutoff)
                evts = events.prune_events(session=s, older_than=PROCESSED_EVENTS_KEEP)
        if texts or evts or comments or audited:
            log.info("pruned %d interaction texts, %d feedback comments, %d audit rows and %d "
                     "event ids", texts, comments, audited, evts)
        return {"interactions": texts, "comments": comments, "audit": audited, "events": evts}

    def maybe_retrain(self) -> Any:
        """Let the fine-tuning module retrain if enough new feedback came in (one replica)."""
        try:
            from bot import style as api
        except ImportError:
            return None
        if not hasattr(api, "maybe_retrain") or not self.settings.style_model_enabled:
            return None
        with self._job(), advisory_lock(self.db, RETRAIN_LOCK) as got:
            if not got:
                return None
            return api.maybe_retrain(settings=self.settings, db=self.db)

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        scheduled = getattr(event, "scheduled_run_time", None)
        if scheduled is not None:
            lag = (datetime.now(UTC) - scheduled).total_seconds()
            metrics.SCHEDULER_LAG.observe(max(0.0, lag))
        if event.exception is not None:
            log.error("scheduled job %s failed: %s", event.job_id, event.exception)


def _cron_fields(expr: str) -> dict[str, str]:
    minute, hour, day, month, day_of_week = expr.split()
    return {"minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": day_of_week}


def wait_until(predicate: Callable[[], bool], timeout_s: float, step_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return predicate()
