"""Ingesting a source: load -> clean -> chunk -> embed (cached) -> store, incrementally.

Guarantees, and how:

* **Unchanged costs nothing.** Each document's content hash (cleaned text, title, URI, chunker
  settings) is compared with the stored one; a match is neither chunked, embedded nor written.
* **Unchanged text is never embedded twice.** Chunk texts are looked up in the embedding cache
  by (model id, sha256) first; only misses reach the model, many documents per model call.
* **Crash-safe.** Embedding happens outside any transaction; a document's row, the deletion of
  its old chunks and the insertion of its new ones then commit together. A kill at any point
  leaves every document either at its old or at its new version, and the next run redoes
  whatever had not committed. Pruning runs only after a *complete* listing.
* **One bad document never stops the others.** Its reason is recorded in the run's errors.
* **One ingest per source at a time.** A session-level ``pg_try_advisory_lock`` on a
  dedicated connection; a second ingest gets a ``busy`` result at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import text

from bot.db import sources as sources_db
from knowledge.chunking import CHUNKER_VERSION, chunk_document, counter_for
from knowledge.embeddings import text_hash
from knowledge.store import cache, meta, terms, vector_facts, writer
from knowledge.store.vector_store import LoreVectorStore, chunk_node
from knowledge.types import Chunk, Document, DocumentError

if TYPE_CHECKING:
    from bot.db.session import Database
    from bot.settings import Settings
    from knowledge.embeddings import Embedder

log = logging.getLogger(__name__)

FLUSH_CHUNKS = 256  # chunks gathered across documents per model call and per write transaction
REEMBED_PAGE = 1000


@dataclass
class IngestResult:
    run_id: int | None
    source: str
    status: str  # ok | partial | failed | busy
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    chunks_written: int = 0
    embeddings_computed: int = 0
    embeddings_reused: int = 0
    reembedded: int = 0
    seconds: float = 0.0
    errors: list[dict[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    redactions: dict[str, int] = field(default_factory=dict)  # kind -> count, over new/changed docs
    message: str = ""

    @property
    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in (
            "added", "updated", "unchanged", "deleted", "failed", "chunks_written",
            "embeddings_computed", "embeddings_reused", "reembedded")}

    def summary(self) -> str:
        if self.status == "busy":
            return f"{self.source}: {self.message}"
        line = (
            f"{self.source}: {self.status} - documents added {self.added}, updated {self.updated}, "
            f"unchanged {self.unchanged}, deleted {self.deleted}, failed {self.failed}; "
            f"chunks written {self.chunks_written}; embeddings computed {self.embeddings_computed}, "
            f"reused {self.embeddings_reused}; {self.seconds:.1f}s"
        )
        if self.reembedded:
            line += f"; re-embedded {self.reembedded} chunks"
        if self.redactions:
            line += f"; redacted {sum(self.redactions.values())} secrets/personal data"
        return line + (f" ({self.message})" if self.message else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Prepared:
    doc: Document  # cleaned
    content_hash: str
    chunks: list[Chunk]
    hashes: list[str]
    existing_id: int | None
    vectors: list[np.ndarray] = field(default_factory=list)


class _Skip(Exception):
    """A document deliberately not indexed (empty, only secrets); its reason is recorded."""


def lock_key(name: str) -> int:
    """The advisory-lock key of a source: a stable signed 64-bit hash of 'ingest:<name>'."""
    digest = hashlib.sha256(f"ingest:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def source_lock(db: Database, name: str) -> Iterator[bool]:
    """Yields True while holding the source's ingest lock, False if another ingest holds it.

    Session-level, on a connection of its own: released on exit, and by the server if this
    process dies, so a crash never leaves a source locked.
    """
    conn = db.engine.connect()
    try:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(name)}).scalar())
        conn.commit()  # the lock outlives the transaction; an open one would pin old row versions
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(name)})
                conn.commit()
    finally:
        conn.close()


def ingest_source(
    *,
    db: Database,
    settings: Settings,
    name: str,
    trigger: str = "manual",
    embedder: Embedder | None = None,
    progress: bool = False,
    reembed: bool = False,
    source_factory: Callable[[Any, Settings], Any] | None = None,
) -> IngestResult:
    """Bring source ``name`` up to date in the index and record the run; see the module doc.

    ``source_factory(spec, settings)`` builds the source (default: the registry's
    ``build_source``); chat adapters and tests pass their own.
    """
    started = time.perf_counter()
    with db.session() as session:
        row = sources_db.get_source(session=session, name=name)
        if row is None:
            raise ValueError(f"no source named {name!r}; `lorebot sources list` shows the sources")
        source_id, collection_id = row.id, row.collection_id
        from knowledge.sources.base import SourceSpec

        spec = SourceSpec(name=row.name, kind=row.kind, location=row.location,
                          options=dict(row.options or {}), cursor=row.cursor)
    with source_lock(db, name) as locked:
        if not locked:
            return IngestResult(run_id=None, source=name, status="busy",
                                message="an ingest of this source is already running; "
                                        "this one was not started")
        if embedder is None:
            from knowledge.embeddings import embedder_from_settings

            embedder = embedder_from_settings(settings)
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
            sources_db.close_stale_runs(session=session, source_id=source_id)
            run_id = sources_db.start_run(session=session, source_id=source_id, trigger=trigger).id
        result = IngestResult(run_id=run_id, source=name, status="running")
        job = _Run(db=db, settings=settings, embedder=embedder, spec=spec, source_id=source_id,
                   collection_id=collection_id, result=result, progress=progress,
                   source_factory=source_factory)
        cursor = None
        try:
            if reembed:
                job.reembed()
            cursor = job.run()
        except KeyboardInterrupt:
            result.status = "interrupted"
            result.errors.append({"external_id": "", "reason": "interrupted; the next run finishes"})
            _finish(db, result, started, cursor)
            raise
        except Exception as exc:  # the source or the database failed: record it, keep what committed
            log.exception("ingest of %s failed", name)
            result.status = "failed"
            result.errors.append({"external_id": "", "reason": f"{type(exc).__name__}: {exc}"})
        if result.status == "running":
            failed_all = result.failed and not (result.added or result.updated or result.unchanged)
            result.status = "failed" if failed_all else ("partial" if result.errors else "ok")
        if reembed and result.status in ("ok", "partial"):
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


def _record_if_sole_source(db: Database, embedder: Embedder, source_id: int) -> None:
    """After re-embedding one source, the new model is recorded only if no other source has
    vectors (those are still the old model's: ``ingest --all --reembed`` records it then)."""
    with db.session() as session:
        others = session.execute(
            text("SELECT EXISTS (SELECT 1 FROM chunks WHERE source_id <> :s)"), {"s": source_id}
        ).scalar()
        if not others:
            meta.record_model(session=session, name=embedder.name, dimension=embedder.dimension)
            vector_facts.record_vectors(session=session, embedder=embedder)


def _finish(db: Database, result: IngestResult, started: float, cursor: str | None) -> None:
    with db.session() as session:
        # The keyword arm's BM25 weights come from these; only a changed index moves them.
        if result.added or result.updated or result.deleted or terms.term_stats_stale(session=session):
            t0 = time.perf_counter()
            terms.refresh_term_stats(session=session)
            result.timings["term_stats"] = time.perf_counter() - t0
    result.seconds = round(time.perf_counter() - started, 3)
    result.timings["total"] = result.seconds
    with db.session() as session:
        sources_db.finish_run(
            session=session, run_id=result.run_id or 0, status=result.status, counts=result.counts,
            errors=result.errors, timings={k: round(v, 3) for k, v in result.timings.items()},
            cursor=cursor,
        )


def ingest_all(
    *,
    db: Database,
    settings: Settings,
    trigger: str = "manual",
    embedder: Embedder | None = None,
    progress: bool = False,
    reembed: bool = False,
) -> list[IngestResult]:
    """Ingest every source in name order. With ``reembed``, also records the new model once all
    sources re-embedded cleanly (until then the mismatch check keeps asking for it)."""
    with db.session() as session:
        names = [s.name for s in sources_db.list_sources(session=session)]
    results = [
        ingest_source(db=db, settings=settings, name=n, trigger=trigger, embedder=embedder,
                      progress=progress, reembed=reembed)
        for n in names
    ]
    if reembed:
        if embedder is None:
            from knowledge.embeddings import embedder_from_settings

            embedder = embedder_from_settings(settings)
        reembed_failed = [r for r in results if r.status in ("failed", "busy", "interrupted")]
        if not reembed_failed:
            with db.session() as session:
                meta.record_model(session=session, name=embedder.name, dimension=embedder.dimension)
                vector_facts.record_vectors(session=session, embedder=embedder)
    return results


class _Run:
    """One ingest run of one source (the lock is held by the caller)."""

    def __init__(self, *, db: Database, settings: Settings, embedder: Embedder, spec: Any,
                 source_id: int, collection_id: int, result: IngestResult, progress: bool,
                 source_factory: Callable[[Any, Settings], Any] | None = None) -> None:
        self.source_factory = source_factory
        self.count_tokens = counter_for(embedder)
        self.db, self.settings, self.embedder, self.spec = db, settings, embedder, spec
        self.source_id, self.collection_id = source_id, collection_id
        self.result = result
        self.progress = progress
        self.store = LoreVectorStore(db)
        self.timings: dict[str, float] = result.timings
        for stage in ("load", "prepare", "cache", "embed", "write", "prune", "index"):
            self.timings.setdefault(stage, 0.0)

    @contextlib.contextmanager
    def _timed(self, stage: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] += time.perf_counter() - t

    def _error(self, external_id: str, reason: str) -> None:
        self.result.failed += 1
        self.result.errors.append({"external_id": external_id, "reason": reason})

    # --- the run ---------------------------------------------------------------------------
    def run(self) -> str | None:
        if self.source_factory is None:
            from knowledge.sources.registry import build_source

            self.source_factory = build_source
        with self.db.session() as session:
            existing = sources_db.document_hashes(session=session, source_id=self.source_id)
            writer.ensure_vector_index(session=session)
        with self.db.session() as session:
            bulk = writer.begin_bulk_load(session=session)
        try:
            return self._load(existing)
        finally:
            if bulk:
                with self._timed("index"), self.db.session() as session:
                    writer.ensure_vector_index(session=session)

    def _load(self, existing: dict[str, tuple[int, str]]) -> str | None:
        source = self.source_factory(self.spec, self.settings)
        seen: set[str] = set()
        pending: list[_Prepared] = []
        pending_chunks = 0
        bar = _progress_bar(self.spec.name, self.progress)
        items = iter(source.load(since=None))
        try:
            while True:
                with self._timed("load"):
                    item = next(items, None)
                if item is None:
                    break
                bar.update(1)
                if item.external_id in seen:
                    self._error(item.external_id, "listed twice by the source; the first copy was kept")
                    continue
                seen.add(item.external_id)
                if isinstance(item, DocumentError):
                    self._error(item.external_id, item.reason)
                    continue
                try:
                    with self._timed("prepare"):
                        prepared = self._prepare(item, existing.get(item.external_id))
                except _Skip as skip:
                    self._error(item.external_id, str(skip))
                    continue
                except Exception as exc:  # a document the cleaner or chunker chokes on
                    log.warning("document %s failed to prepare: %s", item.external_id, exc)
                    self._error(item.external_id, f"could not be processed: {type(exc).__name__}: {exc}")
                    continue
                if prepared is None:
                    self.result.unchanged += 1
                    continue
                pending.append(prepared)
                pending_chunks += len(prepared.chunks)
                if pending_chunks >= FLUSH_CHUNKS:
                    self._flush(pending)
                    bar.set_postfix(chunks=self.result.chunks_written, refresh=False)
                    pending, pending_chunks = [], 0
        except Exception:
            # Documents already read are still good when the source fails part-way: keep them.
            # (Not on Ctrl-C: whoever interrupts wants it to stop now.)
            self._flush(pending)
            raise
        finally:
            bar.close()
        self._flush(pending)
        if getattr(source, "complete", False):
            gone = [doc_id for ext, (doc_id, _) in existing.items() if ext not in seen]
            with self._timed("prune"):
                self._prune(gone)
        return getattr(source, "cursor", None)

    def _prepare(self, doc: Document, existing: tuple[int, str] | None) -> _Prepared | None:
        from knowledge.cleaning import clean, skip_reason

        cleaned, report = clean(doc, settings=self.settings)
        reason = skip_reason(cleaned, report)
        if reason:
            raise _Skip(reason)
        digest = self._content_hash(cleaned)
        if existing is not None and existing[1] == digest:
            return None
        for kind, n in report.counts.items():
            self.result.redactions[kind] = self.result.redactions.get(kind, 0) + n
        chunks = chunk_document(
            cleaned, tokenizer_count=self.count_tokens,
            chunk_size=self.settings.chunk_size_tokens, overlap=self.settings.chunk_overlap_tokens,
        )
        if not chunks:
            raise _Skip("no text to index after cleaning")
        return _Prepared(doc=cleaned, content_hash=digest, chunks=chunks,
                         hashes=[text_hash(c.text) for c in chunks],
                         existing_id=existing[0] if existing else None)

    def _content_hash(self, doc: Document) -> str:
        s = self.settings
        head = f"{CHUNKER_VERSION}|{s.chunk_size_tokens}|{s.chunk_overlap_tokens}|{doc.mime}"
        h = hashlib.sha256()
        for part in (head, doc.title, doc.uri, doc.text):
            h.update(part.encode("utf-8", "replace"))
            h.update(b"\x1e")
        return h.hexdigest()

    # --- embedding -------------------------------------------------------------------------
    def _vectors_for(self, hashes: list[str], texts: list[str]) -> tuple[dict[str, np.ndarray], int]:
        """Vectors for every hash: from the cache, else computed (and cached). Returns (map, computed)."""
        with self._timed("cache"), self.db.session() as session:
            found = cache.lookup(session=session, model_id=self.embedder.model_id, hashes=hashes)
        todo: dict[str, str] = {}
        for digest, body in zip(hashes, texts, strict=True):
            if digest not in found and digest not in todo:
                todo[digest] = body
        if todo:
            with self._timed("embed"):
                vectors = self.embedder.embed(list(todo.values()))
            computed = dict(zip(todo.keys(), vectors, strict=True))
            with self._timed("cache"), self.db.session() as session:
                cache.store(session=session, model_id=self.embedder.model_id, vectors=computed)
            found.update(computed)
        return found, len(todo)

    def _embed_batch(self, batch: list[_Prepared]) -> list[_Prepared]:
        hashes = [h for p in batch for h in p.hashes]
        texts = [c.text for p in batch for c in p.chunks]
        try:
            vectors, computed = self._vectors_for(hashes, texts)
        except Exception as exc:
            if len(batch) == 1:
                self._error(batch[0].doc.external_id, f"embedding failed: {type(exc).__name__}: {exc}")
                return []
            # One document's text broke the model call: find it, keep the others.
            return [p for one in batch for p in self._embed_batch([one])]
        for p in batch:
            p.vectors = [vectors[h] for h in p.hashes]
        self.result.embeddings_computed += computed
        self.result.embeddings_reused += len(hashes) - computed
        return batch

    # --- writing ---------------------------------------------------------------------------
    def _flush(self, pending: list[_Prepared]) -> None:
        if not pending:
            return
        ready = self._embed_batch(pending)
        if not ready:
            return
        with self._timed("write"):
            try:
                with self.db.session() as session:
                    self._write(session, ready)
            except Exception:
                # Find the document the batch choked on; every other one gets its own transaction.
                for p in ready:
                    try:
                        with self.db.session() as session:
                            self._write(session, [p])
                    except Exception as exc:
                        self._error(p.doc.external_id, f"could not be stored: {type(exc).__name__}: {exc}")
                    else:
                        self._count_written([p])
                return
        self._count_written(ready)

    def _count_written(self, ready: list[_Prepared]) -> None:
        for p in ready:
            if p.existing_id is None:
                self.result.added += 1
            else:
                self.result.updated += 1
            self.result.chunks_written += len(p.chunks)

    def _write(self, session: Any, batch: list[_Prepared]) -> None:
        """Document rows, old chunks out, new chunks in: all in the caller's one transaction."""
        records = [
            writer.DocumentRecord(
                external_id=p.doc.external_id, uri=p.doc.uri, title=p.doc.title,
                content_hash=p.content_hash, version=p.doc.version,
                source_updated_at=p.doc.updated_at, metadata=_json_safe(p.doc.metadata),
            )
            for p in batch
        ]
        ids = writer.upsert_documents(session=session, source_id=self.source_id, records=records)
        writer.delete_chunks_of(session=session, document_ids=[ids[r.external_id] for r in records])
        nodes = [
            chunk_node(
                text_=c.text, embedding=vec, document_id=ids[p.doc.external_id],
                collection_id=self.collection_id, source_id=self.source_id, ordinal=c.ordinal,
                heading_path=c.heading_path, token_count=c.token_count, text_hash=digest,
                metadata=_json_safe(c.metadata),
            )
            for p in batch
            for c, digest, vec in zip(p.chunks, p.hashes, p.vectors, strict=True)
        ]
        self.store.add(nodes, session=session)

    def _prune(self, document_ids: list[int]) -> None:
        for start in range(0, len(document_ids), sources_db.DELETE_BATCH):
            part = document_ids[start : start + sources_db.DELETE_BATCH]
            with self.db.session() as session:
                counts = sources_db.delete_documents(session=session, document_ids=part)
            self.result.deleted += counts["documents"]

    # --- re-embedding ----------------------------------------------------------------------
    def reembed(self) -> None:
        """Recompute every stored chunk vector of this source with the configured model."""
        after = 0
        while True:
            with self.db.session() as session:
                page = writer.chunk_texts(session=session, source_id=self.source_id, after_id=after,
                                          limit=REEMBED_PAGE)
            if not page:
                return
            vectors, computed = self._vectors_for([h for _, _, h in page], [t for _, t, _ in page])
            self.result.embeddings_computed += computed
            self.result.embeddings_reused += len(page) - computed
            with self._timed("write"), self.db.session() as session:
                writer.update_embeddings(session=session, vectors=[(cid, vectors[h]) for cid, _, h in page])
            self.result.reembedded += len(page)
            after = page[-1][0]


def _json_safe(value: dict[str, Any]) -> dict[str, Any]:
    """Metadata as JSON can hold it (dates and other objects become strings)."""
    import json

    return json.loads(json.dumps(value, default=str))


def _progress_bar(name: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(desc=f"ingest {name}", unit="doc", disable=not enabled, leave=False, dynamic_ncols=True)
