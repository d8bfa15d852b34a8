"""Collections, sources and their ingest runs.

Deleting a source removes its documents and chunks too. The chunks table carries an HNSW
index, where one huge ``DELETE`` sets off long index maintenance, so documents go in batches.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.db.models import Chunk, Collection, Document, IngestRun, Source
from bot.hygiene import validate_collection_name
from knowledge.store.writer import DELETE_BATCH, delete_documents, document_hashes

__all__ = ["DELETE_BATCH", "delete_documents", "document_hashes"]  # moved to knowledge.store.writer


def get_or_create_collection(*, session: Session, name: str, description: str = "") -> Collection:
    """The collection ``name``; a new one only under a valid name (ValueError otherwise)."""
    found = session.execute(select(Collection).where(Collection.name == name)).scalar_one_or_none()
    if found is not None:
        return found
    validate_collection_name(name)  # every path that creates a collection comes through here
    collection = Collection(name=name, description=description)
    session.add(collection)
    session.flush()
    return collection


def list_collections(*, session: Session) -> list[Collection]:
    return list(session.execute(select(Collection).order_by(Collection.name)).scalars())


def create_source(
    *,
    session: Session,
    name: str,
    kind: str,
    location: str,
    collection: str,
    schedule: str | None = None,
    options: dict[str, Any] | None = None,
) -> Source:
    """Add a source; raises ValueError if the name is taken."""
    if get_source(session=session, name=name) is not None:
        raise ValueError(f"a source named {name!r} already exists; remove it first or pick another name")
    coll = get_or_create_collection(session=session, name=collection)
    source = Source(name=name, kind=kind, location=location, collection_id=coll.id,
                    schedule=schedule, options=options or {})
    session.add(source)
    session.flush()
    return source


def get_source(*, session: Session, name: str) -> Source | None:
    return session.execute(select(Source).where(Source.name == name)).scalar_one_or_none()


def get_source_by_id(*, session: Session, source_id: int) -> Source | None:
    return session.get(Source, source_id)


def list_sources(*, session: Session, collection: str | None = None) -> list[Source]:
    stmt = select(Source).order_by(Source.name)
    if collection:
        stmt = stmt.join(Collection, Source.collection_id == Collection.id).where(
            Collection.name == collection
        )
    return list(session.execute(stmt).scalars())


def set_schedule(*, session: Session, name: str, schedule: str | None) -> bool:
    result = session.execute(update(Source).where(Source.name == name).values(schedule=schedule))
    return (result.rowcount or 0) > 0


def delete_source(*, session: Session, name: str) -> dict[str, int] | None:
    """Remove a source with its documents and chunks; None when there is no such source.

    Commits between batches, so call it with a session of its own: a crash part-way leaves
    the source (and whatever documents remain) in place, and a second call finishes the job.
    """
    source = get_source(session=session, name=name)
    if source is None:
        return None
    source_id = source.id
    removed = {"documents": 0, "chunks": 0}
    while True:
        ids = list(session.execute(
            select(Document.id).where(Document.source_id == source_id).limit(DELETE_BATCH)
        ).scalars())
        if not ids:
            break
        counts = delete_documents(session=session, document_ids=ids)
        removed["documents"] += counts["documents"]
        removed["chunks"] += counts["chunks"]
        session.commit()
    session.execute(delete(Source).where(Source.id == source_id))
    return removed


def source_counts(*, session: Session, source_id: int) -> dict[str, int]:
    docs = session.execute(
        select(func.count()).select_from(Document).where(Document.source_id == source_id)
    ).scalar_one()
    chunks = session.execute(
        select(func.count()).select_from(Chunk).where(Chunk.source_id == source_id)
    ).scalar_one()
    return {"documents": int(docs), "chunks": int(chunks)}


def start_run(*, session: Session, source_id: int, trigger: str = "manual",
              allow_mass_delete: bool = False) -> IngestRun:
    run = IngestRun(source_id=source_id, trigger=trigger, status="running",
                    started_at=datetime.now(UTC), allow_mass_delete=allow_mass_delete)
    session.add(run)
    session.execute(update(Source).where(Source.id == source_id).values(
        status="running", last_run_at=run.started_at))
    session.flush()
    return run


def finish_run(
    *,
    session: Session,
    run_id: int,
    status: str,
    counts: dict[str, Any],
    errors: list[dict[str, Any]],
    timings: dict[str, Any],
    cursor: str | None = None,
    keep_cursor: bool = True,
) -> None:
    """Close a run and copy its outcome onto its source (status, last success, last error)."""
    now = datetime.now(UTC)
    run = session.get(IngestRun, run_id)
    if run is None:
        raise ValueError(f"ingest run {run_id} does not exist")
    run.status, run.finished_at = status, now
    run.counts, run.errors, run.timings = counts, errors, timings
    values: dict[str, Any] = {"status": status}
    if status in ("ok", "partial"):
        values["last_success_at"] = now
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        values["last_error"] = f"{first.get('external_id', '')}: {first.get('reason', '')}{more}"
    elif status == "ok":
        values["last_error"] = None
    if cursor is not None or not keep_cursor:
        values["cursor"] = cursor
    session.execute(update(Source).where(Source.id == run.source_id).values(**values))


def close_stale_runs(*, session: Session, source_id: int) -> int:
    """Mark runs left 'running' by a killed process as interrupted (call while holding the lock)."""
    result = session.execute(
        update(IngestRun)
        .where(IngestRun.source_id == source_id, IngestRun.status == "running")
        .values(status="interrupted", finished_at=datetime.now(UTC))
    )
    return result.rowcount or 0


def recent_runs(*, session: Session, source_id: int | None = None, limit: int = 10) -> list[IngestRun]:
    stmt = select(IngestRun).order_by(IngestRun.started_at.desc(), IngestRun.id.desc()).limit(limit)
    if source_id is not None:
        stmt = stmt.where(IngestRun.source_id == source_id)
    return list(session.execute(stmt).scalars())


def get_run(*, session: Session, run_id: int) -> IngestRun | None:
    return session.get(IngestRun, run_id)


def document_count_by_name(*, session: Session, name: str) -> int:
    """Documents stored for the source called ``name`` (0 when there is no such source)."""
    return int(session.execute(
        select(func.count()).select_from(Document).join(Source, Source.id == Document.source_id)
        .where(Source.name == name)
    ).scalar_one())
