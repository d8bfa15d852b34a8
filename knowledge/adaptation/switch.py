"""The safe switch-over between vector spaces, and retrieval that reads the active one.

A space is a model version plus where its vectors live (``knowledge.store.spaces``) and how a
text becomes one of them (the model, then an optional PCA projection or truncation).
Activating a version re-embeds the corpus into the version's own table in a background
thread while the active space keeps serving, builds its HNSW index, fills in chunks that
arrived meanwhile, and then switches in one transaction (``lorebot_meta`` names the active
version). Anything that fails or runs past ``max_seconds`` drops the half-built table and
leaves the old space active. ``rollback`` switches back to the previous space, whose table
is kept for exactly that.

Ingestion writes only ``chunks.embedding``; after an ingest run, ``sync_active_space`` gives
new chunks their vectors in the active space too (``bot.ingest`` calls it after a run that
added or changed chunks).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from knowledge.adaptation.encoder import SpaceEncoder, encoder_for, search_active
from knowledge.store import model_registry as records
from knowledge.store import spaces
from knowledge.store.active_space import (
    BASE_VERSION,
    SpaceSpec,
    SwitchError,
    active_spec,
    base_spec,
    ensure_base_registered,
    spec_for,
    spec_from_row,
)
from knowledge.store.spaces import VectorSpace

log = logging.getLogger(__name__)

# Old import paths: the lookup lives in knowledge.store.active_space, encoding in .encoder.
__all__ = [
    "BASE_VERSION", "ReembedJob", "ReembedReport", "ReembedTooSlow", "SpaceEncoder", "SpaceSpec",
    "SwitchError", "VectorSpace", "activate", "active_spec", "base_spec", "encoder_for",
    "ensure_base_registered", "rollback", "search_active", "spec_for", "spec_from_row",
    "sync_active_space",
]


class ReembedTooSlow(SwitchError):
    pass


# --- re-embedding and switching -----------------------------------------------------------------
@dataclass
class ReembedReport:
    version: str
    status: str  # "switched", "failed", "too_slow"
    vectors: int = 0
    seconds: float = 0.0
    error: str | None = None
    previous: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _fill(
    *, database: Any, spec: SpaceSpec, encoder: SpaceEncoder, batch_size: int,
    deadline: float | None, source: VectorSpace | None, progress: Any = None,
) -> int:
    """Give every chunk without a vector in ``spec.space`` one; returns how many were written."""
    written, after = 0, 0
    while True:
        with database.session() as session:
            page = spaces.missing_chunks(session=session, space=spec.space, after_id=after,
                                         limit=batch_size)
            derived = (spaces.vectors_for_ids(session=session, space=source,
                                              chunk_ids=[c for c, _ in page])
                       if source is not None and page else {})
        if not page:
            return written
        ids = [c for c, _ in page]
        # A reduction of an existing space projects the stored vectors; no model run needed.
        todo = [i for i, c in enumerate(ids) if c not in derived]
        vectors = np.zeros((len(ids), spec.space.dimension), dtype=np.float32)
        if len(todo) < len(ids):
            have = [i for i in range(len(ids)) if ids[i] in derived]
            vectors[have] = encoder.reduce(np.stack([derived[ids[i]] for i in have]))
        if todo:
            vectors[todo] = encoder.encode([page[i][1] for i in todo])
        with database.session() as session:
            spaces.write_vectors(session=session, space=spec.space, chunk_ids=ids, vectors=vectors)
        written += len(ids)
        after = ids[-1]
        if progress is not None:
            progress.update(len(ids))
        if deadline is not None and time.monotonic() > deadline:
            raise ReembedTooSlow(
                f"re-embedding into {spec.space.version} ran past its time limit after {written} "
                "chunks; the previous space keeps serving. Raise --max-minutes or run it off-hours"
            )


def _switch(*, session: Any, settings: Any, version: str, encoder: SpaceEncoder | None) -> str:
    """Make ``version`` active in the caller's transaction; returns the version it replaced."""
    records.lock_switch(session=session)
    ensure_base_registered(session=session, settings=settings)
    current = records.active_version(session=session) or BASE_VERSION
    if current == version:
        return current
    spec = spec_for(session=session, settings=settings, version=version)
    if encoder is not None and not spec.space.is_base:
        # Chunks ingested since the fill: embedded here, under the lock, so none is missing.
        missing = spaces.missing_chunks(session=session, space=spec.space, limit=100_000)
        if missing:
            spaces.write_vectors(session=session, space=spec.space, chunk_ids=[c for c, _ in missing],
                                 vectors=encoder.encode([t for _, t in missing]))
    records.set_meta(session=session, key=records.ACTIVE_KEY, value=version)
    records.set_meta(session=session, key=records.PREVIOUS_KEY, value=current)
    records.update_embedding_model(session=session, version=current, status="retired")
    records.update_embedding_model(session=session, version=version, status="active", activated=True)
    return current


class ReembedJob:
    """Re-embed the corpus into a version's space in the background, then switch atomically."""

    def __init__(
        self, *, database: Any, settings: Any, version: str, batch_size: int = 256,
        max_seconds: float | None = None, progress: bool = False,
        encoder_factory: Callable[[SpaceSpec, Any], SpaceEncoder] = encoder_for,
    ) -> None:
        self.database, self.settings, self.version = database, settings, version
        self.batch_size, self.max_seconds, self.progress = batch_size, max_seconds, progress
        self.encoder_factory = encoder_factory
        self.report: ReembedReport | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ReembedJob:
        self._thread = threading.Thread(target=self.run, name=f"reembed-{self.version}", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> ReembedReport:
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"re-embedding {self.version} is still running")
        assert self.report is not None
        return self.report

    def run(self) -> ReembedReport:
        t0 = time.monotonic()
        deadline = t0 + self.max_seconds if self.max_seconds else None
        with self.database.session() as session:
            ensure_base_registered(session=session, settings=self.settings)
            spec = spec_for(session=session, settings=self.settings, version=self.version)
            source = None
            if spec.source_version:
                source = spec_for(session=session, settings=self.settings,
                                  version=spec.source_version).space
            if not spec.space.is_base:
                spaces.create_space(session=session, space=spec.space)
                records.update_embedding_model(session=session, version=self.version, status="building")
            total = spaces.counts(session=session, space=spec.space)[1]
        report = ReembedReport(version=self.version, status="failed")
        bar = None
        try:
            encoder = self.encoder_factory(spec, self.settings)
            if not spec.space.is_base:
                if self.progress:
                    from tqdm.auto import tqdm

                    bar = tqdm(total=total, desc=f"re-embedding into {self.version}", unit="chunk")
                report.vectors = _fill(database=self.database, spec=spec, encoder=encoder,
                                       batch_size=self.batch_size, deadline=deadline, source=source,
                                       progress=bar)
                report.timings["fill_s"] = time.monotonic() - t0
                with self.database.session() as session:
                    spaces.build_index(session=session, space=spec.space)
                report.timings["index_s"] = time.monotonic() - t0 - report.timings["fill_s"]
                report.vectors += _fill(database=self.database, spec=spec, encoder=encoder,
                                        batch_size=self.batch_size, deadline=None, source=source)
            if deadline is not None and time.monotonic() > deadline:
                raise ReembedTooSlow(
                    f"re-embedding into {self.version} took longer than {self.max_seconds:.0f}s; "
                    "the previous space keeps serving"
                )
            with self.database.session() as session:
                report.previous = _switch(session=session, settings=self.settings,
                                          version=self.version, encoder=encoder)
            report.status = "switched"
        except Exception as exc:  # noqa: BLE001 - any failure must leave the old space serving
            report.status = "too_slow" if isinstance(exc, ReembedTooSlow) else "failed"
            report.error = str(exc) or exc.__class__.__name__
            log.warning("re-embedding into %s failed, old space keeps serving: %s", self.version, exc)
            self._clean_up(spec, report.error)
        finally:
            if bar is not None:
                bar.close()
        report.seconds = time.monotonic() - t0
        self.report = report
        return report

    def _clean_up(self, spec: SpaceSpec, error: str | None) -> None:
        try:
            with self.database.session() as session:
                if not spec.space.is_base and records.active_version(session=session) != self.version:
                    spaces.drop_space(session=session, space=spec.space)
                records.update_embedding_model(
                    session=session, version=self.version, status="failed",
                    metrics={"switch_error": error},
                )
        except Exception:  # noqa: BLE001 - the original error is what the caller needs
            log.exception("cleaning up after a failed re-embed of %s", self.version)


def activate(
    *, database: Any, settings: Any, version: str, force: bool = False, background: bool = False,
    max_seconds: float | None = None, progress: bool = False, batch_size: int = 256,
) -> ReembedJob:
    """Start making ``version`` active; a version the gate rejected needs ``force``."""
    with database.session() as session:
        ensure_base_registered(session=session, settings=settings)
        row = records.get_embedding_model(session=session, version=version)
        if row is None:
            raise SwitchError(f"no embedding model version {version!r}; see `lorebot embeddings list`")
        if row.status == "rejected" and not force:
            raise SwitchError(
                f"{version} did worse than the active model on held-out questions (see its "
                "metrics in `lorebot embeddings list`); it stays inactive. Use --force to override"
            )
        if records.active_version(session=session) == version:
            raise SwitchError(f"{version} is already active")
    job = ReembedJob(database=database, settings=settings, version=version, batch_size=batch_size,
                     max_seconds=max_seconds, progress=progress)
    if background:
        return job.start()
    job.run()
    return job


def rollback(*, database: Any, settings: Any) -> tuple[str, str]:
    """Switch back to the space that was active before; returns (from, to)."""
    with database.session() as session:
        previous = records.get_meta(session=session, key=records.PREVIOUS_KEY)
        current = records.active_version(session=session) or BASE_VERSION
        if not previous or previous == current:
            raise SwitchError("nothing to roll back to: no other space was active before this one")
        spec = spec_for(session=session, settings=settings, version=previous)
        if not spec.space.is_base and not spaces.space_exists(session=session, space=spec.space):
            raise SwitchError(f"the vectors of {previous} were removed; activate it again instead")
    encoder = None if spec.space.is_base else encoder_for(spec, settings)
    with database.session() as session:
        _switch(session=session, settings=settings, version=previous, encoder=encoder)
    return current, previous


def sync_active_space(*, database: Any, settings: Any, batch_size: int = 256) -> int:
    """Embed chunks that have no vector in the active space yet (call after ingesting)."""
    with database.session() as session:
        spec = active_spec(session=session, settings=settings)
        source = (spec_for(session=session, settings=settings, version=spec.source_version).space
                  if spec.source_version else None)
    if spec.space.is_base:
        return 0
    return _fill(database=database, spec=spec, encoder=encoder_for(spec, settings),
                 batch_size=batch_size, deadline=None, source=source)
