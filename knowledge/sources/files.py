"""A file's bytes turned into a Document (or a DocumentError), shared by folder and git sources.

Also holds the rules both sources use to leave things out: hidden paths, VCS folders,
dependency folders and virtual environments, and files above INGEST_MAX_FILE_MB.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from knowledge.sources.decoding import ReadError
from knowledge.sources.readers import reader_for
from knowledge.types import Document, DocumentError

SKIP_DIRS = {
    "node_modules", "__pycache__", "venv", "site-packages", "bower_components",
    "__pypackages__", "vendor",
}


def max_bytes(max_file_mb: float) -> int:
    return int(max_file_mb * 1024 * 1024)


def too_big_reason(size: int, max_file_mb: float) -> str:
    return (
        f"file is {size / 1024 / 1024:.1f} MB, above INGEST_MAX_FILE_MB={max_file_mb:g}; "
        "raise INGEST_MAX_FILE_MB or leave the file out"
    )


def is_skipped_dir(path: Path | PurePosixPath) -> bool:
    """Folders that hold tooling, dependencies or environments, never team knowledge."""
    name = path.name
    if name.startswith(".") or name in SKIP_DIRS:
        return True
    if not isinstance(path, Path):
        return False
    try:
        return (path / "pyvenv.cfg").is_file()
    except OSError:  # an unreadable folder is not skipped: the walk reports it as unlisted
        return False


def is_skipped_path(rel: PurePosixPath) -> bool:
    """A relative path inside a hidden or tooling folder, or a hidden file (``.env``!)."""
    return rel.name.startswith(".") or any(
        part.startswith(".") or part in SKIP_DIRS for part in rel.parts[:-1]
    )


def document_from_bytes(
    data: bytes,
    *,
    name: str,
    external_id: str,
    uri: str,
    updated_at: datetime | None = None,
    version: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Document | DocumentError:
    """Read ``data`` with the reader for ``name``; unreadable content becomes a DocumentError."""
    reader = reader_for(name)
    if reader is None:
        return DocumentError(external_id, f"unsupported file type {PurePosixPath(name).suffix or name!r}")
    try:
        read = reader(data, name)
    except ReadError as exc:
        return DocumentError(external_id, str(exc))
    if not read.text.strip():
        return DocumentError(external_id, "no text in the file (empty after reading)")
    return Document(
        external_id=external_id,
        text=read.text,
        title=read.title,
        uri=uri,
        mime=read.mime,
        updated_at=updated_at,
        version=version,
        metadata={**(metadata or {}), **read.metadata, "size": len(data)},
    )


def load_file(path: Path, *, root: Path, max_file_mb: float) -> Document | DocumentError:
    """One file on disk as a Document; ``external_id`` is its path relative to ``root``."""
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
    if not is_valid_text(rel):
        return DocumentError(printable(rel), "file name is not valid UTF-8; rename the file to index it")
    try:
        stat = path.stat()
    except OSError as exc:
        return DocumentError(rel, f"cannot read the file ({exc.strerror or exc}); check the path/link")
    if stat.st_size > max_bytes(max_file_mb):
        return DocumentError(rel, too_big_reason(stat.st_size, max_file_mb))
    try:
        data = path.read_bytes()
    except OSError as exc:
        return DocumentError(rel, f"cannot read the file ({exc.strerror or exc}); check its permissions")
    return document_from_bytes(
        data,
        name=path.name,
        external_id=rel,
        uri=str(path),
        updated_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
        metadata={"path": rel},
    )


def is_valid_text(name: str) -> bool:
    """False for names with undecodable bytes (Python keeps them as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime, tz=UTC)
    except OSError:
        return None
