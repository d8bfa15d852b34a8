"""The HTTP endpoints and ``lorebot serve``'s lifecycle, over a real database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import httpx
import psycopg
import pytest
from starlette.testclient import TestClient

from bot import metrics
from bot.db.session import Database, connect
from bot.serve import InFlight, TrackedAnswerer
from bot.server import Readiness, create_app
from bot.settings import load_settings
from bot.types import Actor, Answer, ChannelRef


def _client(readiness: Readiness) -> TestClient:
    return TestClient(create_app(readiness))


def test_healthz_readyz_and_metrics_when_all_is_well(database):
    client = _client(Readiness(db=database, adapters={"slack": lambda: True}))
    assert client.get("/healthz").json() == {"status": "alive"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json() == {"ready": True}
    metrics.SCHEDULER_LAG.observe(0.3)
    body = client.get("/metrics").text
    for name in ("lorebot_questions_total", "lorebot_abstentions_total",
                 "# TYPE lorebot_answer_latency_seconds histogram", "lorebot_votes_total",
                 "lorebot_ingest_runs_total", "lorebot_ingest_failures_total",
                 "lorebot_scheduler_lag_seconds_count", "lorebot_ready 1.0"):
        assert name in body, name


def test_readyz_reports_each_reason_with_503(database):
    readiness = Readiness(db=database, adapters={"discord": lambda: False, "slack": lambda: True})
    r = _client(readiness).get("/readyz")
    assert r.status_code == 503 and r.json()["problems"] == ["discord: not connected"]
    readiness.adapters = {}
    readiness.draining = True
    assert _client(readiness).get("/readyz").json()["problems"] == ["shutting down"]


def test_readyz_fails_when_the_schema_is_behind(fresh_db_url, unit_settings):
    db = connect(unit_settings, url=fresh_db_url)  # an empty database: no migrations at all
    try:
        r = _client(Readiness(db=db)).get("/readyz")
        assert r.status_code == 503
        assert "not at the latest migration" in r.json()["problems"][0]
    finally:
        db.dispose()


def _admin_url(url: str) -> str:
    head, _, query = url.partition("?")
    return head.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://") + "/postgres" + (
        f"?{query}" if query else "")


def test_readyz_fails_when_the_database_goes_away(db_url, settings):
    db = connect(settings)
    client = _client(Readiness(db=db))
    try:
        assert client.get("/readyz").status_code == 200
        name = db.engine.url.database
        with psycopg.connect(_admin_url(db_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        r = client.get("/healthz")
        assert r.status_code == 200  # the process is still alive...
        r = client.get("/readyz")  # ...but must not get traffic
        assert r.status_code == 503
        assert r.json()["problems"][0].startswith("database: unreachable")
        assert "lorebot_ready 0.0" in client.get("/metrics").text
    finally:
        db.dispose()


def test_readyz_fails_on_a_closed_port():
    from sqlalchemy.orm import sessionmaker

    from bot.db.session import make_engine

    port = _free_port()  # nothing listens there
    engine = make_engine(f"postgresql+psycopg://lorebot:pw@127.0.0.1:{port}/lorebot")
    db = Database(url="x", engine=engine, sessions=sessionmaker(engine), embedded=False)
    r = _client(Readiness(db=db)).get("/readyz")
    assert r.status_code == 503 and "database: unreachable" in r.json()["problems"][0]
    assert "pw" not in r.text
    engine.dispose()


class _SlowAnswerer:
    def __init__(self) -> None:
        self.release = threading.Event()

    def answer(self, question, *, channel, thread, asker):
        self.release.wait(10)
        return Answer(text="done", citations=[], abstained=False, interaction_id=uuid.uuid4())


def test_in_flight_answers_are_counted_until_they_finish():
    asked = metrics.REGISTRY.get_sample_value("lorebot_questions_total", {"platform": "slack"}) or 0
    inflight = InFlight()
    slow = _SlowAnswerer()
    built = []
    tracked = TrackedAnswerer(lambda: built.append(1) or slow, inflight)
    assert built == []  # nothing is loaded before the first question
    results = []
    worker = threading.Thread(target=lambda: results.append(tracked.answer(
        "q", channel=ChannelRef("slack", "C"), thread=None, asker=Actor("slack", "U"))))
    worker.start()
    deadline = time.monotonic() + 5
    while inflight.count == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert inflight.count == 1
    assert inflight.wait(0.1) is False
    slow.release.set()
    assert inflight.wait(5) is True
    worker.join(5)
    assert results[0].text == "done" and built == [1]
    assert metrics.REGISTRY.get_sample_value("lorebot_questions_total",
                                             {"platform": "slack"}) == asked + 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_probes_and_stops_cleanly_on_sigterm(db_url, tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "DISCORD_", "LOREBOT_", "DATABASE_URL"))}
    env.update(DATABASE_URL=db_url, LOREBOT_DATA_DIR=str(tmp_path / "data"),
               LOREBOT_SHUTDOWN_TIMEOUT_S="6", LOREBOT_LOG_FORMAT="text", HF_HUB_OFFLINE="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli.main import app; app()", "serve", "--host",
         "127.0.0.1", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        ready = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"{base}/readyz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert ready is not None and ready.status_code == 200, proc.poll()
        assert httpx.get(f"{base}/healthz").json() == {"status": "alive"}
        assert "lorebot_scheduled_skips" in httpx.get(f"{base}/metrics").text

        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=15)
        took = time.monotonic() - sent
        out = proc.stdout.read() if proc.stdout else ""
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0, out
    assert took < 6, took
    assert "received SIGTERM; shutting down" in out and "lorebot stopped" in out
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/healthz", timeout=1)


def test_settings_are_not_shown_by_the_endpoints(tmp_path):
    s = load_settings(_env_file=None, lorebot_data_dir=tmp_path, slack_bot_token="xoxb-123456-secret")
    r = _client(Readiness(db=None)).get("/readyz")
    assert r.status_code == 503 and r.json()["problems"] == ["database: not opened"]
    assert "xoxb" not in r.text and s.slack_bot_token is not None


def test_served_core_counts_votes(settings, database):
    from bot.db import interactions as interactions_db
    from bot.serve import ServedLoreBot

    core = ServedLoreBot(settings=settings, db=database)
    with database.session() as s:
        iid = interactions_db.save_interaction(
            session=s, settings=settings, asker=Actor("slack", "U1"), platform="slack",
            channel="C", thread=None, question="q", answer="a").id

    def downs() -> float:
        return metrics.REGISTRY.get_sample_value("lorebot_votes_total", {"value": "down"}) or 0.0

    before = downs()
    assert core.vote(user=Actor("slack", "U2"), value=-1, signal="reaction", interaction_id=iid)
    assert not core.vote(user=Actor("slack", "U2"), value=-1, signal="reaction",
                         reply_ref="not-an-answer")
    assert downs() == before + 1


def test_shutdown_drains_in_flight_answers_within_the_timeout(settings, database):
    from bot.serve import ServedLoreBot, Service

    s = settings.model_copy(update={"lorebot_shutdown_timeout_s": 2.0})
    service = Service(s, scheduler=False)
    slow = _SlowAnswerer()
    core = ServedLoreBot(settings=s, db=database,
                         answerer=TrackedAnswerer(lambda: slow, service.inflight))
    answers = []
    asker = threading.Thread(target=lambda: answers.append(core.ask(
        "q", channel=ChannelRef("slack", "C"), asker=Actor("slack", "U"))))
    asker.start()
    while service.inflight.count == 0:
        time.sleep(0.01)
    service._stop_requested_at = time.monotonic()  # what SIGTERM does first
    stopper = threading.Thread(target=service._shutdown, args=(core,))
    stopper.start()
    time.sleep(0.3)
    assert stopper.is_alive() and service.readiness.draining  # waiting for the answer
    slow.release.set()
    stopper.join(5)
    asker.join(5)
    assert not stopper.is_alive() and answers and answers[0].text == "done"


def test_shutdown_gives_up_on_a_stuck_answer_at_the_timeout(settings, database):
    from bot.serve import ServedLoreBot, Service

    s = settings.model_copy(update={"lorebot_shutdown_timeout_s": 1.0})
    service = Service(s, scheduler=False)
    slow = _SlowAnswerer()
    core = ServedLoreBot(settings=s, db=database,
                         answerer=TrackedAnswerer(lambda: slow, service.inflight))
    asker = threading.Thread(target=lambda: core.ask(
        "q", channel=ChannelRef("slack", "C"), asker=Actor("slack", "U")), daemon=True)
    asker.start()
    while service.inflight.count == 0:
        time.sleep(0.01)
    started = service._stop_requested_at = time.monotonic()
    service._shutdown(core)
    assert 0.8 <= time.monotonic() - started < 1.5  # 90% of the budget, then on with closing
    slow.release.set()
