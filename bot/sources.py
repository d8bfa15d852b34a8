"""Managing knowledge sources, for the CLI and the chat admin commands alike.

Every function takes the database and plain values and returns plain values or text, so
``lorebot sources ...`` and ``@lorebot sources ...`` behave the same. Input is checked here:
an unknown kind, a path that does not exist, a bad schedule each get a message saying what to do.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import schedules
from bot.db import sources as sources_db
from bot.db.session import Database
from bot.hygiene import validate_collection_name
from bot.settings import Settings
from knowledge.redaction import strip_credentials_in
from knowledge.sources.registry import guess_kind, source_kinds

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_WILDCARD = re.compile(r"[*?\[]")


@dataclass
class SourceInfo:
    name: str
    kind: str
    location: str
    collection: str
    schedule: str | None
    status: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    documents: int = 0
    chunks: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def check_location(kind: str, location: str) -> str:
    """The location in stored form (local paths made absolute), or ValueError saying why not."""
    known = source_kinds()
    if kind not in known:
        raise ValueError(f"unknown source kind {kind!r}; use one of: {', '.join(known)}")
    location = location.strip()
    if not location:
        raise ValueError("the source location is empty; give a folder, file, URL or channel")
    if kind == "web":
        if not location.lower().startswith(("http://", "https://")):
            raise ValueError(f"a web source needs an http(s) URL, not {location!r}")
        return location
    if kind in ("slack", "discord"):
        return location
    path = Path(location).expanduser()
    parts = path.parts
    base = path
    for index, part in enumerate(parts):
        if _WILDCARD.search(part):
            base = Path(*parts[:index]) if index else Path(".")
            break
    if not base.exists():
        raise ValueError(f"{base} does not exist; check the path (it is read on this machine)")
    if kind == "jsonl" and not base.is_file():
        raise ValueError(f"a jsonl source is a file of records; {base} is not a file")
    if kind == "git" and not (base / ".git").exists():
        raise ValueError(f"{base} is not a git repository (no .git); use --kind folder for a plain folder")
    if not os.access(base, os.R_OK):
        raise ValueError(f"{base} is not readable by this user; fix its permissions")
    return str(Path(os.path.abspath(path)))


def check_web_addresses(location: str, settings: Settings) -> None:
    """ValueError if a URL's host is spelled as an internal address or a metadata service; the
    fetcher re-checks after DNS and at every redirect (WEB_ALLOWED_PRIVATE_HOSTS allows hosts)."""
    from urllib.parse import urlsplit

    from knowledge.sources.netguard import BlockedAddress, check_literal
    from knowledge.sources.web import net_policy, parse_urls

    policy = net_policy(settings)
    for url in parse_urls(location):
        try:
            check_literal(urlsplit(url).hostname or "", policy)
        except BlockedAddress as exc:
            raise ValueError(str(exc)) from exc


def add_source(
    *,
    db: Database,
    settings: Settings,
    name: str,
    location: str,
    kind: str | None = None,
    collection: str | None = None,
    every: str | None = None,
    cron: str | None = None,
    options: dict[str, Any] | None = None,
) -> SourceInfo:
    """Register a source (nothing is ingested yet: ``lorebot ingest NAME`` does that)."""
    if not _NAME.match(name or ""):
        raise ValueError(
            f"source name {name!r} must be 1-100 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    collection = validate_collection_name(collection or settings.default_collection)
    kind = (kind or guess_kind(location)).lower()
    stored_location = check_location(kind, location)
    if kind == "web":
        check_web_addresses(stored_location, settings)
    schedule = schedules.to_schedule(every=every, cron=cron)
    with db.session() as session:
        sources_db.create_source(
            session=session, name=name, kind=kind, location=stored_location,
            collection=collection, schedule=schedule, options=options,
        )
    return source_info(db=db, name=name)


def remove_source(*, db: Database, name: str) -> str:
    """Delete a source with its documents and chunks; the text says what went."""
    with db.session() as session:
        removed = sources_db.delete_source(session=session, name=name)
    if removed is None:
        raise ValueError(f"no source named {name!r}; `lorebot sources list` shows the sources")
    return (f"removed source {name} with {removed['documents']} documents and "
            f"{removed['chunks']} chunks")


def source_info(*, db: Database, name: str) -> SourceInfo:
    with db.session() as session:
        row = sources_db.get_source(session=session, name=name)
        if row is None:
            raise ValueError(f"no source named {name!r}; `lorebot sources list` shows the sources")
        counts = sources_db.source_counts(session=session, source_id=row.id)
        return _info(row, counts)


def list_source_infos(*, db: Database, collection: str | None = None) -> list[SourceInfo]:
    with db.session() as session:
        rows = sources_db.list_sources(session=session, collection=collection)
        return [_info(r, sources_db.source_counts(session=session, source_id=r.id)) for r in rows]


def _info(row: Any, counts: dict[str, int]) -> SourceInfo:
    return SourceInfo(
        # credentials in a URL are kept to fetch with, never shown (list, describe, --json)
        name=row.name, kind=row.kind, location=strip_credentials_in(row.location),
        collection=row.collection.name, schedule=row.schedule, status=row.status,
        last_run_at=row.last_run_at, last_success_at=row.last_success_at,
        last_error=strip_credentials_in(row.last_error) if row.last_error else None,
        documents=counts["documents"], chunks=counts["chunks"],
    )


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def list_text(*, db: Database, collection: str | None = None) -> str:
    infos = list_source_infos(db=db, collection=collection)
    if not infos:
        return "no sources yet; add one with `lorebot sources add NAME LOCATION`"
    lines = []
    for i in infos:
        lines.append(
            f"{i.name} [{i.kind}] {i.location} -> {i.collection}; {i.status}, "
            f"{i.documents} docs / {i.chunks} chunks, last success {_when(i.last_success_at)}, "
            f"{schedules.describe(i.schedule)}"
        )
    return "\n".join(lines)


def describe_source(*, db: Database, name: str, next_run: datetime | None = None,
                    max_errors: int = 5) -> str:
    """Everything an admin wants to know about one source, as text."""
    info = source_info(db=db, name=name)
    with db.session() as session:
        row = sources_db.get_source(session=session, name=name)
        runs = sources_db.recent_runs(session=session, source_id=row.id, limit=1) if row else []
        last = runs[0] if runs else None
        last_run = (
            f"{_when(last.started_at)} ({last.trigger}) -> {last.status}, "
            + ", ".join(f"{k} {v}" for k, v in (last.counts or {}).items() if v)
            if last else "never"
        )
        errors = list(last.errors or [])[:max_errors] if last else []
        more = len(last.errors or []) - len(errors) if last else 0
    status = info.status
    if status == "running" and row is not None:
        from bot.db.locks import source_lock

        with source_lock(db, row.id) as free:
            if free:  # no process holds the ingest lock: the run it recorded was killed
                status = f"interrupted (the last run did not finish; `lorebot ingest {name}` resumes)"
    if next_run is not None:
        next_text = _when(next_run)
    elif info.schedule:
        next_text = "when the scheduler runs (`lorebot serve`)"
    else:
        next_text = "on demand only"
    lines = [
        f"source {info.name}",
        f"  kind: {info.kind}",
        f"  location: {info.location}",
        f"  collection: {info.collection}",
        f"  schedule: {schedules.describe(info.schedule)}",
        f"  status: {status}",
        f"  documents: {info.documents}, chunks: {info.chunks}",
        f"  last run: {last_run}",
        f"  last success: {_when(info.last_success_at)}",
        f"  next run: {next_text}",
    ]
    if errors:
        lines.append("  last errors:")
        lines.extend(f"    - {e.get('external_id') or '(source)'}: {e.get('reason', '')}" for e in errors)
        if more > 0:
            lines.append(f"    ... and {more} more")
    return "\n".join(lines)
