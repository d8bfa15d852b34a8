"""What a command handler gets: who ran it, where, settings and database, a way to run long work."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.db.session import Database
from bot.settings import Settings
from bot.types import Actor, ChannelRef

if TYPE_CHECKING:
    from bot.admin.registry import Registry

log = logging.getLogger(__name__)


class BackgroundJobs:
    """Long admin commands running in worker threads, so shutdown and ``lorebot admin`` can
    wait for them. One per router; whoever builds the router (serve, the CLI) drains it."""

    def __init__(self) -> None:
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def start(self, label: str, run: Callable[[], None]) -> None:
        def tracked() -> None:
            try:
                run()
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=tracked, name=f"admin:{label}", daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    @property
    def running(self) -> int:
        with self._lock:
            return sum(t.is_alive() for t in self._threads)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for running long commands; True if none is left."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
        return self.running == 0


@dataclass
class CommandContext:
    settings: Settings
    db: Database
    actor: Actor
    channel: ChannelRef
    notify: Callable[[str], None] | None
    registry: Registry | None = None
    # Records how a background command ended (the audit row of its start says "started").
    record_finish: Callable[[str], None] | None = None
    jobs: BackgroundJobs = field(default_factory=BackgroundJobs)
    # Tells the scheduler (when serve wired one) that a source was added or removed.
    on_sources_changed: Callable[[], None] | None = None

    @property
    def from_host(self) -> bool:
        """Typed by the operator in a shell on the host (``lorebot admin``), not in chat: the
        operator's powers are not limited by the chat allow-lists (:mod:`bot.admin.places`)."""
        from bot.admin.auth import CLI_PLATFORM

        return self.actor.platform == CLI_PLATFORM

    def sources_changed(self) -> None:
        if self.on_sources_changed is not None:
            self.on_sources_changed()

    def start(self, label: str, work: Callable[[], str]) -> str:
        """Run ``work`` in a worker thread and report its result through ``notify``.

        Returns the "started" line to answer with at once. Without a ``notify`` the result
        is only logged.
        """
        notify, record_finish = self.notify, self.record_finish

        def run() -> None:
            try:
                message = work()
            except Exception as exc:  # noqa: BLE001 - reported to the person who asked
                log.exception("background admin command failed", extra={"command": label})
                message = f"{label} failed: {exc}"
            try:
                if record_finish is not None:
                    record_finish(message)
            except Exception:  # noqa: BLE001
                log.exception("could not audit the end of a background admin command")
            try:
                if notify is not None:
                    notify(message)
                else:
                    log.info("background admin command finished: %s", message)
            except Exception:  # noqa: BLE001 - a chat post failing must not kill the worker
                log.exception("could not report the end of a background admin command")

        self.jobs.start(label, run)
        return f"started {label}; I will report here when it is done"
