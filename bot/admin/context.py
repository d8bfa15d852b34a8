"""What a command handler gets: who ran it, where, the core, and a way to run long work."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.db.session import Database
from bot.settings import Settings
from bot.types import Actor, ChannelRef

if TYPE_CHECKING:
    from bot.admin.registry import Registry
    from bot.core import LoreBot

log = logging.getLogger(__name__)

# Background commands of this process, so `lorebot admin` and shutdown can wait for them.
_background: set[threading.Thread] = set()
_background_lock = threading.Lock()


def wait_for_background(timeout: float | None = None) -> bool:
    """Wait for running long commands; True if none is left."""
    with _background_lock:
        threads = list(_background)
    for thread in threads:
        thread.join(timeout)
    with _background_lock:
        return not any(t.is_alive() for t in _background)


@dataclass
class CommandContext:
    core: LoreBot
    actor: Actor
    channel: ChannelRef
    notify: Callable[[str], None] | None
    registry: Registry | None = None
    # Records how a background command ended (the audit row of its start says "started").
    record_finish: Callable[[str], None] | None = None

    @property
    def settings(self) -> Settings:
        return self.core.settings

    @property
    def db(self) -> Database:
        return self.core.db

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
            finally:
                with _background_lock:
                    _background.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=f"admin:{label}", daemon=True)
        with _background_lock:
            _background.add(thread)
        thread.start()
        return f"started {label}; I will report here when it is done"
