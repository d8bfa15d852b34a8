"""Counting work in progress, so a shutdown can wait for it (answers, scheduled jobs)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class InFlight:
    """Counts pieces of work being done; ``wait`` returns once none is left."""

    def __init__(self) -> None:
        self._count = 0
        self._cond = threading.Condition()

    @contextlib.contextmanager
    def track(self) -> Iterator[None]:
        with self._cond:
            self._count += 1
        try:
            yield
        finally:
            with self._cond:
                self._count -= 1
                self._cond.notify_all()

    @property
    def count(self) -> int:
        return self._count

    def wait(self, timeout_s: float) -> bool:
        """True once nothing is in flight; False if ``timeout_s`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: self._count == 0, timeout=max(0.0, timeout_s))
