"""``lorebot serve`` shutdown waits for work accepted before it: Slack answers still queued on
the listeners' pool and long admin commands. No database: the core is a FakeCore."""

from __future__ import annotations

import threading
import time

from bot.admin.context import BackgroundJobs
from bot.serve import Service
from bot.settings import load_settings
from tests.helpers.fake_core import FakeCore


class _Closable(FakeCore):
    closed = False

    def close(self) -> None:
        self.closed = True


def _service(tmp_path, timeout_s: float) -> Service:
    s = load_settings(_env_file=None, lorebot_data_dir=tmp_path,
                      lorebot_shutdown_timeout_s=timeout_s)
    service = Service(s, scheduler=False)
    service._stop_requested_at = time.monotonic()  # what SIGTERM does first
    return service


def test_shutdown_finishes_queued_slack_answers_before_closing(tmp_path) -> None:
    service = _service(tmp_path, 5.0)
    core = _Closable(settings=service.settings)
    listeners = service.slack_listeners(core)
    release, done = threading.Event(), []
    listeners.defer(lambda: (release.wait(5), done.append(1)))
    listeners.defer(lambda: done.append(2))  # a second answer accepted before the signal
    stopper = threading.Thread(target=service._shutdown, args=(core,))
    stopper.start()
    time.sleep(0.3)
    assert stopper.is_alive() and not core.closed  # waiting for the answer in progress
    release.set()
    stopper.join(5)
    assert sorted(done) == [1, 2] and core.closed


def test_shutdown_waits_for_admin_jobs_up_to_the_budget(tmp_path) -> None:
    service = _service(tmp_path, 1.0)
    jobs = BackgroundJobs()
    service._drains.append(("admin commands", jobs.wait))
    release = threading.Event()
    jobs.start("reindex", lambda: release.wait(10))
    core = _Closable(settings=service.settings)
    started = time.monotonic()
    service._shutdown(core)
    assert 0.8 <= time.monotonic() - started < 1.5 and jobs.running == 1  # gave up at 90%
    release.set()
    assert jobs.wait(5) and core.closed
