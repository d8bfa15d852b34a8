"""Source schedules: ``--every 6h`` / ``--cron "0 */6 * * *"`` <-> the stored string.

The ``sources.schedule`` column holds ``every:6h`` or ``cron:0 */6 * * *`` (NULL: on demand
only). :func:`trigger_args` turns it into APScheduler ``add_job`` arguments.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

_EVERY = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$", re.I)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MIN_INTERVAL_S = 60


class ScheduleError(ValueError):
    """A schedule that cannot be understood; the message shows a valid example."""


def parse_every(text: str) -> timedelta:
    """``30m``, ``6h``, ``1d``, ``2w`` -> a timedelta of at least a minute."""
    match = _EVERY.match(text or "")
    if not match:
        raise ScheduleError(
            f"cannot read interval {text!r}; use a number and a unit: 30m, 6h, 1d or 2w"
        )
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if seconds < MIN_INTERVAL_S:
        raise ScheduleError(f"interval {text!r} is shorter than a minute; use at least 1m")
    return timedelta(seconds=seconds)


def validate_cron(expr: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    expr = " ".join((expr or "").split())
    try:
        CronTrigger.from_crontab(expr)
    except ValueError as exc:
        raise ScheduleError(
            f"invalid cron expression {expr!r} ({exc}); use five fields, e.g. \"0 */6 * * *\""
        ) from exc
    return expr


def to_schedule(*, every: str | None = None, cron: str | None = None) -> str | None:
    """The stored form of ``--every`` or ``--cron`` (not both); None means on demand only."""
    if every and cron:
        raise ScheduleError("give either --every or --cron, not both")
    if every:
        parse_every(every)
        match = _EVERY.match(every)
        assert match is not None
        return f"every:{match.group(1)}{match.group(2).lower()}"
    if cron:
        return f"cron:{validate_cron(cron)}"
    return None


def parse_schedule(schedule: str) -> tuple[str, str]:
    """``every:6h`` -> ("every", "6h"); ``cron:...`` -> ("cron", "..."), validated."""
    kind, _, value = (schedule or "").partition(":")
    if kind == "every":
        parse_every(value)
    elif kind == "cron":
        validate_cron(value)
    else:
        raise ScheduleError(f"stored schedule {schedule!r} is neither every:<interval> nor cron:<expr>")
    return kind, value


def trigger_args(schedule: str) -> dict[str, Any]:
    """APScheduler ``add_job`` keyword arguments: ``trigger`` plus what that trigger needs."""
    kind, value = parse_schedule(schedule)
    if kind == "every":
        return {"trigger": "interval", "seconds": int(parse_every(value).total_seconds())}
    from apscheduler.triggers.cron import CronTrigger

    return {"trigger": CronTrigger.from_crontab(value)}


def describe(schedule: str | None) -> str:
    """Human wording for ``sources show``."""
    if not schedule:
        return "on demand only"
    kind, value = parse_schedule(schedule)
    return f"every {value}" if kind == "every" else f"cron {value!r}"
