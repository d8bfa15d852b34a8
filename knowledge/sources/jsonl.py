"""A JSON Lines file of ready-made documents as a knowledge source.

Each line is ``{"id", "title", "text", "url"}`` (optional ``mime``, ``updated_at`` in ISO 8601,
``metadata``); a BEIR ``corpus.jsonl`` line ``{"_id", "title", "text", "metadata"}`` works as
is. A bad line (not JSON, no id, no text, text above INGEST_MAX_FILE_MB) becomes a DocumentError
naming the line; the other lines continue. ``load(since=t)`` skips records whose ``updated_at``
is not newer (then ``complete=False``); records without ``updated_at`` are always yielded.
The file may be gzip-compressed (``.jsonl.gz``).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from knowledge.redaction import strip_url_credentials
from knowledge.sources.base import SourceConfig, SourceSpec, SourceUnavailable
from knowledge.sources.files import max_bytes
from knowledge.sources.folder import as_utc
from knowledge.types import Document, DocumentError


def _when(raw: object) -> datetime | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class JsonlSource:
    def __init__(self, spec: SourceSpec, settings: SourceConfig) -> None:
        self.spec = spec
        self.settings = settings
        self.path = Path(spec.location).expanduser()
        if not self.path.is_file():
            what = "is not a file" if self.path.exists() else "does not exist"
            raise ValueError(f"jsonl source {spec.name!r}: {self.path} {what}; check the location")
        self._complete = False

    @property
    def complete(self) -> bool:
        return self._complete

    @property
    def cursor(self) -> str | None:
        return None

    def _open(self) -> IO[bytes]:
        try:
            if self.path.suffix == ".gz":
                return gzip.open(self.path, "rb")
            return self.path.open("rb")
        except OSError as exc:
            raise SourceUnavailable(f"cannot open {self.path}: {exc.strerror or exc}") from exc

    def record(self, raw: bytes, lineno: int) -> Document | DocumentError:
        where = f"{self.path.name}:{lineno}"
        if len(raw) > max_bytes(self.settings.ingest_max_file_mb):
            return DocumentError(where, f"line {lineno} is above INGEST_MAX_FILE_MB="
                                        f"{self.settings.ingest_max_file_mb:g}; split the record")
        try:
            data: Any = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return DocumentError(where, f"line {lineno} is not valid UTF-8 JSON: {exc}")
        if not isinstance(data, dict):
            return DocumentError(where, f"line {lineno} is a JSON {type(data).__name__}, not an object")
        record_id = data.get("id", data.get("_id"))
        if record_id is None or str(record_id).strip() == "":
            return DocumentError(where, f"line {lineno} has no \"id\" (nor BEIR \"_id\"); add one")
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            return DocumentError(str(record_id), f"line {lineno}: record {record_id!r} has no \"text\"")
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        return Document(
            external_id=str(record_id),
            text=text,
            title=str(data.get("title") or ""),
            uri=strip_url_credentials(str(data.get("url") or f"{self.path}#{record_id}")),
            mime=str(data.get("mime") or "text/plain"),
            updated_at=_when(data.get("updated_at")),
            metadata={**metadata, "line": lineno},
        )

    def load(self, *, since: datetime | None = None) -> Iterator[Document | DocumentError]:
        self._complete = False
        partial = False  # a skipped record, or a bad line whose id is unknown, forbids pruning
        with self._open() as handle:
            for lineno, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                item = self.record(raw, lineno)
                if (since is not None and isinstance(item, Document) and item.updated_at is not None
                        and item.updated_at <= as_utc(since)):
                    partial = True
                    continue
                if isinstance(item, DocumentError) and item.external_id.startswith(f"{self.path.name}:"):
                    partial = True
                yield item
        self._complete = not partial
