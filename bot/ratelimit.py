"""Per-user and per-channel question limits, shared by every adapter (Slack, Discord).

Two sliding windows of one minute:

- ``USER_QUESTIONS_PER_MINUTE``: one person asking more than that is told to try again when
  their oldest question of the minute leaves the window ("try again in N seconds"). A flood
  from one person is refused rather than queued: queueing it would delay everyone else.
- ``CHANNEL_QUESTIONS_PER_MINUTE``: a busy channel is not refused but queued. Each question
  gets a start time such that no more than the limit start in any minute; the caller waits
  ``wait_s`` and is told its position ("you're in a queue, position 2"). Only when the wait
  would exceed ``max_wait_s`` (a minute) is the question refused.

0 turns a limit off. The limiter never drops a question silently: every refusal and every
wait comes with a message to show the person.

Where the windows live: given the database (``RateLimiter.from_settings(settings, db)``,
what ``lorebot serve`` should use) they are rows in Postgres (``question_rate_events``,
migration 0010), read and written under a transaction-scoped advisory lock per key, so
several replicas share one limit exactly, at the cost of three short queries per question.
Without a database (tests, the console) they live in this process; there, with N replicas
each counts only the events it receives and the effective limit is up to N x the setting.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.types import Admission

if TYPE_CHECKING:
    from bot.db.session import Database

WINDOW_S = 60.0
MAX_WAIT_S = 60.0
SWEEP_EVERY = 1000  # checks between sweeps of people and channels not seen for a minute


# The decision type is neutral (adapters read it through the core): see bot.types.Admission.
Decision = Admission

ALLOW = Decision(allowed=True)


def _seconds(value: float) -> int:
    return max(1, math.ceil(value))


class RateLimiter:
    """Thread-safe; one instance per process, shared by the adapters."""

    def __init__(self, *, user_per_minute: int = 0, channel_per_minute: int = 0,
                 window_s: float = WINDOW_S, max_wait_s: float = MAX_WAIT_S,
                 clock: Callable[[], float] = time.monotonic, db: Database | None = None) -> None:
        if user_per_minute < 0 or channel_per_minute < 0:
            raise ValueError("question limits must be >= 0 (0 turns a limit off)")
        self.user_limit = user_per_minute
        self.channel_limit = channel_per_minute
        self.window_s = window_s
        self.max_wait_s = max_wait_s
        self._clock = clock
        self._db = db
        self._users: dict[str, deque[float]] = {}
        self._channels: dict[str, deque[float]] = {}  # start times given out, ascending
        self._lock = threading.Lock()
        self._checks = 0

    @classmethod
    def from_settings(cls, settings: object, db: Database | None = None) -> RateLimiter:
        return cls(user_per_minute=int(getattr(settings, "user_questions_per_minute", 0)),
                   channel_per_minute=int(getattr(settings, "channel_questions_per_minute", 0)), db=db)

    @property
    def enabled(self) -> bool:
        return bool(self.user_limit or self.channel_limit)

    @property
    def shared(self) -> bool:
        """True when the windows are in Postgres (one limit across replicas)."""
        return self._db is not None

    def check(self, *, user: str, channel: str) -> Decision:
        """Admit (maybe after a wait) or refuse one question from ``user`` in ``channel``.

        ``user`` and ``channel`` are stable keys (``Actor.key``, ``platform:channel``). An
        admitted question counts against both windows at once, queued or not.
        """
        if not self.enabled:
            return ALLOW
        if self._db is not None:
            return self._check_in_db(user, channel)
        with self._lock:
            now = self._clock()
            horizon = now - self.window_s
            self._checks += 1
            if self._checks % SWEEP_EVERY == 0:
                self._sweep(horizon)
            asked = self._prune(self._users, user, horizon)
            starts = self._prune(self._channels, channel, horizon)
            decision, asked_at, start = self._decide(now, asked, starts)
            if asked_at is not None:
                asked.append(asked_at)
                self._users[user] = asked
            if start is not None:
                starts.append(start)
                self._channels[channel] = starts
            return decision

    def _decide(self, now: float, asked: Sequence[float],
                starts: Sequence[float]) -> tuple[Decision, float | None, float | None]:
        """The decision, and what to record: the user's question time, the channel's start.

        ``asked`` / ``starts``: this window's times for the user / channel, ascending.
        """
        if self.user_limit and len(asked) >= self.user_limit:
            retry = asked[0] + self.window_s - now
            return Decision(
                allowed=False, retry_after_s=retry,
                message=(f"You've asked {len(asked)} questions in the last minute, the most "
                         f"this workspace allows; try again in {_seconds(retry)} seconds.")), None, None
        start = now
        if self.channel_limit and len(starts) >= self.channel_limit:
            # The earliest moment this one can start without exceeding the limit in any window.
            start = max(now, starts[-self.channel_limit] + self.window_s)
            if start - now > self.max_wait_s:
                return Decision(
                    allowed=False, retry_after_s=start - now,
                    message=("This channel is getting a lot of questions right now; please try "
                             "again in a minute.")), None, None
        asked_at = now if self.user_limit else None
        channel_start = start if self.channel_limit else None
        if start <= now:
            return ALLOW, asked_at, channel_start
        position = 1 + sum(1 for t in starts if t > now)
        wait = start - now
        return Decision(allowed=True, wait_s=wait, position=position,
                        message=(f"You're in a queue, position {position}: this channel is busy. "
                                 f"I'll answer in about {_seconds(wait)} seconds.")), asked_at, channel_start

    def _check_in_db(self, user: str, channel: str) -> Decision:
        from bot.db import ratelimit as rate_db

        user_key, channel_key = f"user:{user}", f"channel:{channel}"
        assert self._db is not None
        with self._db.session() as s:
            rate_db.lock(session=s, keys=[user_key, channel_key])
            now = rate_db.now(session=s)  # one clock for every replica: the database's
            horizon = now - self.window_s
            asked = rate_db.times(session=s, key=user_key, after=horizon) if self.user_limit else []
            starts = rate_db.times(session=s, key=channel_key, after=horizon) if self.channel_limit else []
            decision, asked_at, start = self._decide(now, asked, starts)
            if asked_at is not None:
                rate_db.record(session=s, key=user_key, at=asked_at)
            if start is not None:
                rate_db.record(session=s, key=channel_key, at=start)
            self._checks += 1
            if self._checks % SWEEP_EVERY == 0:
                rate_db.prune(session=s, before=horizon)
        return decision

    @staticmethod
    def _prune(table: dict[str, deque[float]], key: str, horizon: float) -> deque[float]:
        times = table.get(key)
        if times is None:
            return deque()
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del table[key]
        return times

    def _sweep(self, horizon: float) -> None:
        for table in (self._users, self._channels):
            for key in [k for k, times in table.items() if not times or times[-1] <= horizon]:
                del table[key]
