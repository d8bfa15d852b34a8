"""Several scheduler processes over one database, as with several ``lorebot serve`` replicas."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scheduler_replica import HashEmbedder
from sqlalchemy import select, update

from bot.db import sources as sources_db
from bot.db.models import Chunk, Document, IngestRun
from bot.scheduler import Scheduler

HELPER = str(Path(__file__).resolve().parents[1] / "scheduler_replica.py")
PY = sys.executable


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "LOREBOT_LOG_LEVEL": "WARNING"}


def _folder(tmp_path: Path, version: str) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir(exist_ok=True)
    for i in range(3):
        (folder / f"page{i}.md").write_text(
            f"# Page {i}\n\nHandbook page {i}, release {version}: topic {i} explained.\n")
    return folder


def _add(database, folder: Path, schedule: str) -> int:
    with database.session() as s:
        return sources_db.create_source(session=s, name="docs", kind="folder",
                                        location=str(folder), collection="default",
                                        schedule=schedule).id


def test_two_replicas_run_a_due_ingest_exactly_once(settings, database, db_url, tmp_path):
    _add(database, _folder(tmp_path, "v1"), "every:1h")
    start_at = time.time() + 4  # both processes are up by then and fire together
    procs = [
        subprocess.Popen([PY, HELPER, "replica", db_url, str(tmp_path / f"d{i}"), str(start_at),
                          "1.5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=_env())
        for i in range(2)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    outcomes = sorted(r["outcomes"]["docs"] for r in results)
    # one ran it; the other found the lock taken, or (if it came late) the run already done
    assert outcomes[0] in ("busy", "not-due") and outcomes[1] == "ran", results
    assert outcomes.count("ran") == 1
    with database.session() as s:
        runs = list(s.execute(select(IngestRun.status, IngestRun.trigger)).all())
    assert runs == [("ok", "schedule")]


def test_killed_ingest_keeps_the_old_index_and_the_next_run_completes(
        settings, database, db_url, tmp_path):
    folder = _folder(tmp_path, "v1")
    sid = _add(database, folder, "every:1h")
    scheduler = Scheduler(settings=settings, db=database, embedder=HashEmbedder(), jitter=False)
    assert scheduler.run_source(sid, "docs", "every:1h") == "ran"
    with database.session() as s:  # that run was two hours ago: the next one is due
        s.execute(update(IngestRun).values(started_at=datetime.now(UTC) - timedelta(hours=2)))

    _folder(tmp_path, "v2")
    marker = tmp_path / "embedding-started"
    proc = subprocess.Popen(
        [PY, HELPER, "run", db_url, str(tmp_path / "d"), str(sid), "docs", "every:1h", "60",
         str(marker)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the ingest never reached embedding"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # mid-run: lock held, run row 'running', nothing written
    proc.wait(timeout=30)

    with database.session() as s:
        texts = list(s.execute(select(Chunk.text)).scalars())
        statuses = list(s.execute(select(IngestRun.status).order_by(IngestRun.id)).scalars())
    assert statuses == ["ok", "running"]
    assert len(texts) == 3 and all("release v1" in t for t in texts)  # old index still serving

    # the dead process's locks went with its connection; its run does not count as done
    assert scheduler.run_source(sid, "docs", "every:1h") == "ran"
    with database.session() as s:
        texts = list(s.execute(select(Chunk.text)).scalars())
        statuses = list(s.execute(select(IngestRun.status).order_by(IngestRun.id)).scalars())
        docs = s.execute(select(Document.id)).all()
    assert statuses == ["ok", "interrupted", "ok"]
    assert len(docs) == 3 and len(texts) == 3 and all("release v2" in t for t in texts)
