"""The one small interface every knowledge source implements.

A source yields :class:`~knowledge.types.Document` objects (or a
:class:`~knowledge.types.DocumentError` for an item it could not read: one bad file never stops
the others). ``load(since=...)`` may return only what changed since a point in time when the
source can tell (file mtimes, git history, sitemap lastmod, message ids); ``complete`` on the
result says whether it listed *everything* (only a complete listing may prune deleted docs).
An ``external_id`` that came back as a DocumentError was seen, not deleted: never prune it.
When the source as a whole cannot be listed (folder gone, repository unreadable) ``load``
raises :class:`SourceUnavailable` instead of yielding nothing, so nothing is pruned by mistake.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from knowledge.types import Document, DocumentError


class SourceConfig(Protocol):
    """What the built-in sources read: size, time and page limits and the crawler's name.

    A protocol, so whoever composes the sources may pass :class:`FetchConfig` or any object with
    these fields (the bot passes its Settings, which plugin sources such as the Slack history
    also read their tokens from).
    """

    @property
    def ingest_max_file_mb(self) -> float: ...
    @property
    def ingest_http_timeout_s(self) -> float: ...
    @property
    def ingest_max_pages(self) -> int: ...
    @property
    def ingest_user_agent(self) -> str: ...
    @property
    def web_allowed_private_hosts(self) -> list[str] | tuple[str, ...]:
        """Host patterns web sources may reach on private addresses (default: none)."""
        ...


@dataclass(frozen=True)
class FetchConfig:
    """A plain :class:`SourceConfig` (defaults as in the settings' defaults)."""

    ingest_max_file_mb: float = 20.0
    ingest_http_timeout_s: float = 15.0
    ingest_max_pages: int = 500
    ingest_user_agent: str = "lorebot/0.1 (+https://github.com/lorebot/lorebot)"
    web_allowed_private_hosts: tuple[str, ...] = ()


class SourceUnavailable(RuntimeError):
    """The whole source cannot be read right now; the message says what to check."""


@dataclass
class SourceSpec:
    """What the ``sources`` table holds about a source, in plain form."""

    name: str
    kind: str  # folder | web | git | jsonl | slack | discord
    location: str
    options: dict | None = None
    cursor: str | None = None  # opaque incremental position (e.g. last message id)


class Source(Protocol):
    spec: SourceSpec

    def load(self, *, since: datetime | None = None) -> Iterator[Document | DocumentError]:
        """Every document (``since=None``), or those changed since ``since`` where knowable."""
        ...

    @property
    def complete(self) -> bool:
        """True if the last ``load`` listed every document that exists (enables pruning)."""
        ...

    @property
    def cursor(self) -> str | None:
        """Where an incremental source got to, saved for the next run."""
        ...
