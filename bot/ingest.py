"""Ingesting a source as lorebot runs it: the source row, its lock, the run record, the
embedding-model policy and the index maintenance around ``knowledge.pipeline``.

* **One ingest per source at a time.** ``bot.db.locks.source_lock`` (the scheduler takes the same
  lock and passes ``lock_held=True``); a second ingest gets a ``busy`` result at once.
* **One embedding model for all vectors.** The first ingest records the model; another model is
  refused unless the run re-embeds (``ingest --all --reembed`` records it once all sources did).
* **The run is recorded** with its counts, errors, timings and final :class:`RunStatus`, also
  when the source fails part-way or the run is interrupted; the BM25 term statistics and the
  active embedding space are brought up to date after a run that changed the index.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from bot.configs import pipeline_config
from bot.db import sources as sources_db
from bot.db.locks import source_lock
from bot.db.session import Database
from bot.settings import Settings
from knowledge.embeddings import Embedder
from knowledge.pipeline import Pipeline, PipelineReport
from knowledge.sources.base import Source, SourceSpec
from knowledge.store import meta, terms, vector_facts, writer

log = logging.getLogger(__name__)

SourceFactory = Callable[[SourceSpec, Any], Source]


class RunStatus(StrEnum):
    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # some documents failed, the others are indexed
    FAILED = "failed"
    BUSY = "busy"  # another ingest of the source holds its lock; nothing was done
    INTERRUPTED = "interrupted"


@dataclass(kw_only=True)
class IngestResult(PipelineReport):
    run_id: int | None
    source: str
    status: RunStatus
    seconds: float = 0.0
    message: str = ""

    def summary(self) -> str:
        if self.status == RunStatus.BUSY:
            return f"{self.source}: {self.message}"
        line = (
            f"{self.source}: {self.status.value} - documents added {self.added}, updated "
            f"{self.updated}, unchanged {self.unchanged}, deleted {self.deleted}, failed "
            f"{self.failed}; chunks written {self.chunks_written}; embeddings computed "
            f"{self.embeddings_computed}, reused {self.embeddings_reused}; {self.seconds:.1f}s"
        )
        if self.reembedded:
            line += f"; re-embedded {self.reembedded} chunks"
        if self.redactions:
            line += f"; redacted {sum(self.redactions.values())} secrets/personal data"
        return line + (f" ({self.message})" if self.message else "")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status.value
        return out


def _default_embedder(settings: Settings) -> Embedder:
    from knowledge.embeddings import embedder_from_settings

    return embedder_from_settings(settings)


def _default_factory() -> SourceFactory:
    from knowledge.sources.registry import build_source

    return build_source


def check_model(*, db: Database, embedder: Embedder, reembed: bool) -> None:
    """Record the first model; refuse another one unless re-embedding (the mismatch policy)."""
    with db.session() as session:
        meta.check_dimension(session=session, name=embedder.name, dimension=embedder.dimension)
        recorded = meta.recorded_model(session=session)
        if recorded is None:
            meta.record_model(session=session, name=embedder.name, dimension=embedder.dimension)
        elif recorded[0] != embedder.name and not reembed:
            raise meta.EmbeddingModelMismatch(
                f"the stored vectors were made by embedding model {recorded[0]!r} but "
                f"EMBEDDING_MODEL is {embedder.name!r}; run `{meta.REEMBED_HINT}` to re-embed "
                f"every chunk, or set EMBEDDING_MODEL={recorded[0]} again"
            )
        if not reembed:  # same model, but bf16 vectors must not join fp32 ones (or back)
            vector_facts.check_vectors(session=session, embedder=embedder, writing=True)


def ingest_source(
    *,
    db: Database,
    settings: Settings,
    name: str,
    trigger: str = "manual",
    embedder: Embedder | None = None,
    progress: bool = False,
    reembed: bool = False,
    source_factory: SourceFactory | None = None,
    lock_held: bool = False,
    allow_mass_delete: bool = False,
) -> IngestResult:
    """Bring source ``name`` up to date in the index and record the run; see the module doc.

    ``source_factory(spec, settings)`` builds the source (default: the registry's
    ``build_source``); chat adapters and tests pass their own. ``lock_held``: the caller (the
    scheduler) already holds this source's lock. ``allow_mass_delete``: the operator (or a chat
    admin, as a confirmation) said a run may delete more than INGEST_MAX_DELETE_FRACTION of the
    source; it is recorded in the run row. Without it such a run deletes nothing and says why.
    """
    started = time.perf_counter()
    with db.session() as session:
        row = sources_db.get_source(session=session, name=name)
        if row is None:
            raise ValueError(f"no source named {name!r}; `lorebot sources list` shows the sources")
        source_id, collection_id = row.id, row.collection_id
        spec = SourceSpec(name=row.name, kind=row.kind, location=row.location,
                          options=dict(row.options or {}), cursor=row.cursor)
    lock = nullcontext(True) if lock_held else source_lock(db, source_id)
    with lock as locked:
        if not locked:
            return IngestResult(run_id=None, source=name, status=RunStatus.BUSY,
                                message="an ingest of this source is already running; "
                                        "this one was not started")
        embedder = embedder or _default_embedder(settings)
        check_model(db=db, embedder=embedder, reembed=reembed)
        with db.session() as session:
            sources_db.close_stale_runs(session=session, source_id=source_id)
            run_id = sources_db.start_run(session=session, source_id=source_id, trigger=trigger,
                                          allow_mass_delete=allow_mass_delete).id
        result = IngestResult(run_id=run_id, source=name, status=RunStatus.RUNNING)
        pipeline = Pipeline(db=db, embedder=embedder, config=pipeline_config(settings),
                            source_id=source_id, collection_id=collection_id, report=result,
                            name=name, progress=progress, allow_mass_delete=allow_mass_delete)
        cursor = None
        try:
            if reembed:
                pipeline.reembed()
            source = (source_factory or _default_factory())(spec, settings)
            cursor = pipeline.run(source)
        except KeyboardInterrupt:
            result.status = RunStatus.INTERRUPTED
            result.errors.append({"external_id": "", "reason": "interrupted; the next run finishes"})
            _finish(db, result, started, cursor)
            raise
        except Exception as exc:  # the source or the database failed: record it, keep what committed
            log.exception("ingest of %s failed", name)
            result.status = RunStatus.FAILED
            result.errors.append({"external_id": "", "reason": f"{type(exc).__name__}: {exc}"})
        if result.status == RunStatus.RUNNING:
            failed_all = result.failed and not (result.added or result.updated or result.unchanged)
            result.status = (RunStatus.FAILED if failed_all
                             else RunStatus.PARTIAL if result.errors else RunStatus.OK)
        if result.prune_held:
            result.message = (f"{result.prune_held} documents gone from the source were NOT "
                              "deleted; confirm with --allow-mass-delete")
        if reembed and result.status in (RunStatus.OK, RunStatus.PARTIAL):
            _record_if_sole_source(db, embedder, source_id)
        _finish(db, result, started, cursor)
        if result.added or result.updated:
            _sync_active_space(db, settings)
        return result


def _sync_active_space(db: Database, settings: Settings) -> None:
    """New chunks also get vectors in an adopted embedding space (``lorebot embeddings``);
    until they do, that space's search simply does not see them - never an error."""
    try:
        from knowledge.adaptation.switch import sync_active_space

        sync_active_space(database=db, settings=settings)
    except Exception:  # the base vectors are written; the space catches up on the next run
        log.exception("could not add the new chunks to the active embedding space")


def _record_vectors(session: Any, embedder: Embedder) -> None:
    """The store's vectors are now all this model's, at this precision (after a re-embed)."""
    meta.record_model(session=session, name=embedder.name, dimension=embedder.dimension)
    vector_facts.record_vectors(session=session, embedder=embedder)


def _record_if_sole_source(db: Database, embedder: Embedder, source_id: int) -> None:
    """After re-embedding one source, the new model is recorded only if no other source has
    vectors (those are still the old model's: ``ingest --all --reembed`` records it then)."""
    with db.session() as session:
        if not writer.other_sources_have_chunks(session=session, source_id=source_id):
            _record_vectors(session, embedder)


def _finish(db: Database, result: IngestResult, started: float, cursor: str | None) -> None:
    with db.session() as session:
        # The keyword arm's BM25 weights come from these; only a changed index moves them.
        if result.changed_index or terms.term_stats_stale(session=session):
            t0 = time.perf_counter()
            terms.refresh_term_stats(session=session)
            result.timings["term_stats"] = time.perf_counter() - t0
    result.seconds = round(time.perf_counter() - started, 3)
    result.timings["total"] = result.seconds
    with db.session() as session:
        sources_db.finish_run(
            session=session, run_id=result.run_id or 0, status=result.status.value,
            counts=result.counts, errors=result.errors,
            timings={k: round(v, 3) for k, v in result.timings.items()}, cursor=cursor,
        )


def ingest_all(
    *,
    db: Database,
    settings: Settings,
    trigger: str = "manual",
    embedder: Embedder | None = None,
    progress: bool = False,
    reembed: bool = False,
    allow_mass_delete: bool = False,
) -> list[IngestResult]:
    """Ingest every source in name order. With ``reembed``, also records the new model once all
    sources re-embedded cleanly (until then the mismatch check keeps asking for it)."""
    with db.session() as session:
        names = [s.name for s in sources_db.list_sources(session=session)]
    results = [
        ingest_source(db=db, settings=settings, name=n, trigger=trigger, embedder=embedder,
                      progress=progress, reembed=reembed, allow_mass_delete=allow_mass_delete)
        for n in names
    ]
    if reembed:
        embedder = embedder or _default_embedder(settings)
        stopped = (RunStatus.FAILED, RunStatus.BUSY, RunStatus.INTERRUPTED)
        if not [r for r in results if r.status in stopped]:
            with db.session() as session:
                _record_vectors(session, embedder)
    return results
