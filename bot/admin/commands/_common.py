"""Small helpers shared by the command modules."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta


def add_days(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument("--days", type=positive_int, default=default)


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return number


def since_days(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def ago(when: datetime | None, *, now: datetime | None = None) -> str:
    """``3h ago`` / ``in 2d`` wording for a timestamp."""
    if when is None:
        return "never"
    now = now or datetime.now(UTC)
    seconds = (now - when).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            amount = f"{int(seconds // size)}{unit}"
            break
    else:
        amount = f"{int(seconds)}s"
    return f"in {amount}" if future else f"{amount} ago"


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
