"""The stage pipeline of ingestion: load -> clean -> chunk -> embed (cached) -> write, and
re-embedding what is stored.

Guarantees, and how:

* **Unchanged costs nothing.** Each document's content hash (cleaned text, title, URI, chunker
  settings) is compared with the stored one; a match is neither chunked, embedded nor written.
* **Unchanged text is never embedded twice.** Chunk texts are looked up in the embedding cache
  by (model id, sha256) first; only misses reach the model, many documents per model call.
* **Crash-safe.** Embedding happens outside any transaction; a document's row, the deletion of
  its old chunks and the insertion of its new ones then commit together. A kill at any point
  leaves every document either at its old or at its new version, and the next run redoes
  whatever had not committed. Pruning runs only after a *complete* listing.
* **No wipe by accident.** A complete listing that would delete more than
  ``max_delete_fraction`` of the source's documents, or all of them (an empty listing: a share
  that did not mount), deletes nothing unless the run was told ``allow_mass_delete``; the
  report's ``prune_held`` and an error say how many and why. The other documents still update.
* **One bad document never stops the others.** Its reason is recorded in the report's errors.

The stages hand each other :class:`PreparedDocument` (cleaned, chunked, hashed) and then
:class:`EmbeddedDocument` (with one vector per chunk). Which source, which lock, the run record
and the embedding-model policy belong to the caller (``bot.ingest``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from knowledge.chunking import CHUNKER_VERSION, chunk_document, counter_for
from knowledge.cleaning import CleaningConfig, clean, skip_reason
from knowledge.embeddings import Embedder, text_hash
from knowledge.sources.base import Source
from knowledge.store import cache, writer
from knowledge.store.base import Database
from knowledge.store.vector_store import LoreVectorStore, chunk_node
from knowledge.types import Chunk, Document, DocumentError

log = logging.getLogger(__name__)

FLUSH_CHUNKS = 256  # chunks gathered across documents per model call and per write transaction
REEMBED_PAGE = 1000
COUNTS = ("added", "updated", "unchanged", "deleted", "failed", "chunks_written",
          "embeddings_computed", "embeddings_reused", "reembedded", "prune_held")
MASS_DELETE_HINT = "--allow-mass-delete"


@dataclass(frozen=True)
class PipelineConfig:
    """CHUNK_SIZE_TOKENS / CHUNK_OVERLAP_TOKENS and the cleaning switches."""

    chunk_size_tokens: int = 200
    chunk_overlap_tokens: int = 30
    cleaning: CleaningConfig = field(default_factory=CleaningConfig)
    # INGEST_MAX_DELETE_FRACTION: a larger share of a source deleted in one run waits for a yes.
    max_delete_fraction: float = 0.5


@dataclass(kw_only=True)
class PipelineReport:
    """What the stages did to one source's documents."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    chunks_written: int = 0
    embeddings_computed: int = 0
    embeddings_reused: int = 0
    reembedded: int = 0
    prune_held: int = 0  # documents gone from the listing but kept: too many to delete unasked
    errors: list[dict[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    redactions: dict[str, int] = field(default_factory=dict)  # kind -> count, over new/changed docs

    @property
    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in COUNTS}

    @property
    def changed_index(self) -> bool:
        return bool(self.added or self.updated or self.deleted)


@dataclass
class PreparedDocument:
    """A new or changed document after clean and chunk: ready to embed."""

    doc: Document  # cleaned
    content_hash: str
    chunks: list[Chunk]
    hashes: list[str]  # text_hash of each chunk, the embedding cache key
    existing_id: int | None  # the stored document it replaces


@dataclass
class EmbeddedDocument:
    """A prepared document with one vector per chunk: ready to write."""

    prepared: PreparedDocument
    vectors: list[np.ndarray]


class SkippedDocument(Exception):
    """A document deliberately not indexed (empty, only secrets); its reason is recorded."""


class Pipeline:
    """The stages over one source's documents, writing into ``report``.

    Which source row, which lock, which run record and which embedding model is allowed are the
    caller's business (``bot.ingest``); this class only loads, cleans, chunks, embeds and writes.
    """

    def __init__(self, *, db: Database, embedder: Embedder, config: PipelineConfig,
                 source_id: int, collection_id: int, report: PipelineReport,
                 name: str = "", progress: bool = False, allow_mass_delete: bool = False) -> None:
        self.count_tokens = counter_for(embedder)
        self.db, self.embedder, self.config = db, embedder, config
        self.name = name
        self.source_id, self.collection_id = source_id, collection_id
        self.result = report
        self.progress = progress
        self.allow_mass_delete = allow_mass_delete
        self.store = LoreVectorStore(db)
        self.timings: dict[str, float] = report.timings
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
    def run(self, source: Source) -> str | None:
        """Bring the index up to date with ``source``; returns the source's new cursor."""
        with self.db.session() as session:
            existing = writer.document_hashes(session=session, source_id=self.source_id)
            writer.ensure_vector_index(session=session)
        with self.db.session() as session:
            bulk = writer.begin_bulk_load(session=session)
        try:
            return self._load(source, existing)
        finally:
            if bulk:
                with self._timed("index"), self.db.session() as session:
                    writer.ensure_vector_index(session=session)

    def _load(self, source: Source, existing: dict[str, tuple[int, str]]) -> str | None:
        seen: set[str] = set()
        pending: list[PreparedDocument] = []
        pending_chunks = 0
        bar = _progress_bar(self.name, self.progress)
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
                except SkippedDocument as skip:
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
            if self._mass_delete_held(len(gone), len(existing), len(seen)):
                return getattr(source, "cursor", None)
            with self._timed("prune"):
                self._prune(gone)
        return getattr(source, "cursor", None)

    def _prepare(self, doc: Document, existing: tuple[int, str] | None) -> PreparedDocument | None:
        cleaned, report = clean(doc, config=self.config.cleaning)
        reason = skip_reason(cleaned, report)
        if reason:
            raise SkippedDocument(reason)
        digest = self._content_hash(cleaned)
        if existing is not None and existing[1] == digest:
            return None
        for kind, n in report.counts.items():
            self.result.redactions[kind] = self.result.redactions.get(kind, 0) + n
        chunks = chunk_document(
            cleaned, tokenizer_count=self.count_tokens,
            chunk_size=self.config.chunk_size_tokens, overlap=self.config.chunk_overlap_tokens,
        )
        if not chunks:
            raise SkippedDocument("no text to index after cleaning")
        return PreparedDocument(doc=cleaned, content_hash=digest, chunks=chunks,
                         hashes=[text_hash(c.text) for c in chunks],
                         existing_id=existing[0] if existing else None)

    def _content_hash(self, doc: Document) -> str:
        c = self.config
        head = f"{CHUNKER_VERSION}|{c.chunk_size_tokens}|{c.chunk_overlap_tokens}|{doc.mime}"
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

    def _embed_batch(self, batch: list[PreparedDocument]) -> list[EmbeddedDocument]:
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
        self.result.embeddings_computed += computed
        self.result.embeddings_reused += len(hashes) - computed
        return [EmbeddedDocument(p, [vectors[h] for h in p.hashes]) for p in batch]

    # --- writing ---------------------------------------------------------------------------
    def _flush(self, pending: list[PreparedDocument]) -> None:
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
                for e in ready:
                    try:
                        with self.db.session() as session:
                            self._write(session, [e])
                    except Exception as exc:
                        self._error(e.prepared.doc.external_id,
                                    f"could not be stored: {type(exc).__name__}: {exc}")
                    else:
                        self._count_written([e])
                return
        self._count_written(ready)

    def _count_written(self, ready: list[EmbeddedDocument]) -> None:
        for p in (e.prepared for e in ready):
            if p.existing_id is None:
                self.result.added += 1
            else:
                self.result.updated += 1
            self.result.chunks_written += len(p.chunks)

    def _write(self, session: Any, embedded: list[EmbeddedDocument]) -> None:
        """Document rows, old chunks out, new chunks in: all in the caller's one transaction."""
        batch = [e.prepared for e in embedded]
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
            for e in embedded
            for p in [e.prepared]
            for c, digest, vec in zip(p.chunks, p.hashes, e.vectors, strict=True)
        ]
        self.store.add(nodes, session=session)

    def _mass_delete_held(self, gone: int, stored: int, listed: int) -> bool:
        """Too many deletions to do unasked? Then record why and delete nothing."""
        if not gone or self.allow_mass_delete:
            return False
        share = gone / stored
        if gone < stored and share <= self.config.max_delete_fraction:
            return False
        self.result.prune_held = gone
        if listed == 0:
            why = "the source listed no documents at all (a folder that did not mount, a moved share?)"
        elif gone == stored:
            why = f"that is every one of its {stored} documents"
        else:
            why = (f"that is {share:.0%} of its {stored} documents, more than "
                   f"INGEST_MAX_DELETE_FRACTION={self.config.max_delete_fraction:g}")
        self.result.errors.append({
            "external_id": "",
            "reason": f"deleted nothing: {gone} documents are gone from the listing and {why}; "
                      f"if they really are gone, run the ingest again with {MASS_DELETE_HINT}",
        })
        return True

    def _prune(self, document_ids: list[int]) -> None:
        for start in range(0, len(document_ids), writer.DELETE_BATCH):
            part = document_ids[start : start + writer.DELETE_BATCH]
            with self.db.session() as session:
                counts = writer.delete_documents(session=session, document_ids=part)
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
