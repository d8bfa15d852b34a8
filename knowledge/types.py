"""What sources and the chunker produce: Document (or DocumentError) -> Chunk.

The pipeline's own stage types (PreparedDocument -> EmbeddedDocument) are in ``knowledge.pipeline``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Document:
    """One item a source produced: a file, a page, a record, a message thread."""

    external_id: str  # stable within its source (relative path, URL, record id)
    text: str
    title: str = ""
    uri: str = ""  # what a citation links to: URL or path
    mime: str = "text/plain"  # text/markdown, text/html, text/x-rst, text/x-code, ...
    updated_at: datetime | None = None
    version: str | None = None  # e.g. the git commit
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentError:
    """A document that could not be loaded; recorded with its run, never fatal to the run."""

    external_id: str
    reason: str


@dataclass
class Chunk:
    text: str
    ordinal: int
    heading_path: str = ""
    token_count: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class RedactionReport:
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())
