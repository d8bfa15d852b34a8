"""The ingest pipeline against the real database and the real MiniLM embedder.

Sources here are in-memory (the pipeline takes its source factory as an argument), so each
test controls exactly which documents exist, change, vanish or blow up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bot.db import sources as sources_db
from bot.db.locks import source_lock
from bot.ingest import ingest_source
from knowledge.embeddings import embedder_from_settings
from knowledge.store import meta
from knowledge.types import Document, DocumentError

pytestmark = pytest.mark.db


class MemorySource:
    """A source over a dict the test mutates between runs."""

    def __init__(self, docs: dict[str, str], *, fail_after: int | None = None,
                 complete: bool = True, errors: dict[str, str] | None = None) -> None:
        self.docs = docs
        self.fail_after = fail_after
        self._complete_flag = complete
        self.errors = errors or {}
        self._complete = False

    def load(self, *, since=None) -> Iterator[Document | DocumentError]:
        self._complete = False
        for n, (ext, body) in enumerate(sorted(self.docs.items())):
            if self.fail_after is not None and n >= self.fail_after:
                raise ConnectionError("source went away mid-listing")
            yield Document(external_id=ext, text=body, title=ext.upper(), uri=f"mem://{ext}",
                           mime="text/markdown")
        for ext, reason in self.errors.items():
            yield DocumentError(external_id=ext, reason=reason)
        self._complete = self._complete_flag

    @property
    def complete(self) -> bool:
        return self._complete

    @property
    def cursor(self) -> str | None:
        return None


def _body(topic: str, n: int = 3) -> str:
    paras = "\n\n".join(
        f"{topic.capitalize()} paragraph {i} explains how the team handles {topic} in production. "
        f"It has enough words to be indexed on its own."
        for i in range(n)
    )
    return f"# {topic.capitalize()}\n\n{paras}\n"


@pytest.fixture
def embedder(settings):
    return embedder_from_settings(settings)


@pytest.fixture
def add_mem_source(database):
    def add(name: str = "mem") -> str:
        with database.session() as s:
            sources_db.create_source(session=s, name=name, kind="folder", location="/nowhere",
                                     collection="default")
        return name
    return add


def run(database, settings, embedder, source, name="mem", **kw):
    return ingest_source(db=database, settings=settings, name=name, embedder=embedder,
                         source_factory=lambda spec, st: source, **kw)


def chunk_rows(database, name="mem"):
    with database.session() as s:
        return s.execute(text(
            "SELECT d.external_id, c.id, c.text, c.heading_path, c.embedding IS NOT NULL AS has_vec, "
            "c.metadata FROM chunks c JOIN documents d ON d.id = c.document_id "
            "JOIN sources s ON s.id = c.source_id WHERE s.name = :n ORDER BY d.external_id, c.ordinal"
        ), {"n": name}).all()


def test_first_ingest_writes_chunks_records_run_and_model(database, settings, embedder, add_mem_source):
    add_mem_source()
    src = MemorySource({"deploy.md": _body("deploys"), "oncall.md": _body("on-call")})
    result = run(database, settings, embedder, src)
    assert result.status == "ok", result.errors
    assert (result.added, result.updated, result.unchanged, result.failed) == (2, 0, 0, 0)
    rows = chunk_rows(database)
    assert {r.external_id for r in rows} == {"deploy.md", "oncall.md"}
    assert all(r.has_vec for r in rows)
    assert result.chunks_written == len(rows)
    assert result.embeddings_computed + result.embeddings_reused == len(rows)
    assert rows[0].heading_path in ("Deploys", "On-call")
    assert rows[0].metadata["uri"].startswith("mem://") and rows[0].metadata["title"]
    with database.session() as s:
        assert meta.recorded_model(session=s) == (embedder.name, embedder.dimension)
        runs = sources_db.recent_runs(session=s)
        assert runs[0].status == "ok" and runs[0].counts["added"] == 2
        src_row = sources_db.get_source(session=s, name="mem")
        assert src_row.status == "ok" and src_row.last_success_at is not None
        tsv_hits = s.execute(text("SELECT count(*) FROM chunks WHERE tsv @@ "
                                  "plainto_tsquery('english', 'production')")).scalar_one()
        assert tsv_hits == len(rows)


def test_unchanged_reingest_costs_no_embedding_and_no_write(database, settings, embedder, add_mem_source):
    add_mem_source()
    src = MemorySource({"a.md": _body("alpha"), "b.md": _body("beta")})
    run(database, settings, embedder, src)
    before = chunk_rows(database)
    again = run(database, settings, embedder, src)
    assert again.status == "ok"
    assert (again.unchanged, again.added, again.updated) == (2, 0, 0)
    assert again.embeddings_computed == 0 and again.chunks_written == 0
    assert [r.id for r in chunk_rows(database)] == [r.id for r in before]


def test_changed_document_is_replaced_and_unchanged_text_reused(database, settings, embedder,
                                                                add_mem_source):
    add_mem_source()
    long = _body("alpha", n=12)  # several chunks, so the edit leaves most chunk texts as they were
    src = MemorySource({"a.md": long, "b.md": _body("beta")})
    run(database, settings, embedder, src)
    old_a = [r for r in chunk_rows(database) if r.external_id == "a.md"]
    assert len(old_a) > 1
    src.docs["a.md"] = long + "\nA brand new closing paragraph about alpha rollbacks.\n"
    result = run(database, settings, embedder, src)
    assert (result.updated, result.unchanged) == (1, 1), result.errors
    new_a = [r for r in chunk_rows(database) if r.external_id == "a.md"]
    assert any("rollbacks" in r.text for r in new_a)
    assert not {r.id for r in new_a} & {r.id for r in old_a}  # old rows gone
    assert 0 < result.embeddings_computed < len(new_a)
    assert result.embeddings_reused == len(new_a) - result.embeddings_computed


def test_deleted_document_is_pruned_only_after_a_complete_listing(database, settings, embedder,
                                                                  add_mem_source):
    add_mem_source()
    src = MemorySource({"a.md": _body("alpha"), "b.md": _body("beta")})
    run(database, settings, embedder, src)
    del src.docs["b.md"]
    src._complete_flag = False
    partial = run(database, settings, embedder, src)
    assert partial.deleted == 0
    assert {r.external_id for r in chunk_rows(database)} == {"a.md", "b.md"}
    src._complete_flag = True
    full = run(database, settings, embedder, src)
    assert full.deleted == 1
    assert {r.external_id for r in chunk_rows(database)} == {"a.md"}
    with database.session() as s:
        assert s.execute(text("SELECT count(*) FROM documents WHERE external_id = 'b.md'")).scalar() == 0


def test_document_errors_are_recorded_and_not_pruned(database, settings, embedder, add_mem_source):
    add_mem_source()
    src = MemorySource({"a.md": _body("alpha"), "b.md": _body("beta")})
    run(database, settings, embedder, src)
    del src.docs["b.md"]
    src.errors = {"b.md": "corrupt PDF: cannot read page 1"}
    result = run(database, settings, embedder, src)
    assert result.status == "partial"
    assert result.failed == 1 and result.deleted == 0
    assert {"external_id": "b.md", "reason": "corrupt PDF: cannot read page 1"} in result.errors
    assert {r.external_id for r in chunk_rows(database)} == {"a.md", "b.md"}  # old b still served
    with database.session() as s:
        row = sources_db.get_source(session=s, name="mem")
        assert "corrupt PDF" in (row.last_error or "")


def test_source_crash_mid_run_keeps_previous_index_and_next_run_completes(database, settings, embedder,
                                                                         add_mem_source):
    add_mem_source()
    docs = {f"d{i}.md": _body(f"topic{i}") for i in range(4)}
    src = MemorySource(dict(docs))
    run(database, settings, embedder, src)
    before = {(r.external_id, r.text) for r in chunk_rows(database)}
    for k in docs:
        src.docs[k] = docs[k] + "\nUpdated guidance for the second quarter.\n"
    src.fail_after = 2
    crashed = run(database, settings, embedder, src)
    assert crashed.status == "failed"
    assert any("source went away" in e["reason"] for e in crashed.errors)
    assert crashed.deleted == 0
    after = chunk_rows(database)
    by_doc: dict[str, list[str]] = {}
    for r in after:
        by_doc.setdefault(r.external_id, []).append(r.text)
    assert set(by_doc) == set(docs)  # nothing lost
    # The two documents listed before the crash are at their new version, the rest at the old.
    assert crashed.updated == 2
    assert sum("second quarter" in " ".join(t) for t in by_doc.values()) == 2
    assert {(k, t) for k, ts in by_doc.items() for t in ts if "second quarter" not in " ".join(ts)} <= before
    src.fail_after = None
    fixed = run(database, settings, embedder, src)
    assert fixed.status == "ok" and (fixed.updated, fixed.unchanged) == (2, 2)
    assert all("second quarter" in " ".join(t) for t in
               _texts_by_doc(chunk_rows(database)).values())


def _texts_by_doc(rows):
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r.external_id, []).append(r.text)
    return out


class FlakyEmbedder:
    """The real embedder, except that any batch containing ``poison`` raises."""

    def __init__(self, inner, poison: str) -> None:
        self.inner, self.poison = inner, poison
        self.name, self.dimension, self.model_id = inner.name, inner.dimension, inner.model_id

    def count_tokens(self, t: str) -> int:
        return self.inner.count_tokens(t)

    def embed(self, texts):
        if any(self.poison in t for t in texts):
            raise RuntimeError("model crashed on this input")
        return self.inner.embed(texts)


def test_embedding_failure_in_one_document_spares_the_others(database, settings, embedder,
                                                             add_mem_source):
    add_mem_source()
    src = MemorySource({"a.md": _body("alpha"), "b.md": _body("beta"), "c.md": _body("gamma")})
    run(database, settings, embedder, src)
    old_b = _texts_by_doc(chunk_rows(database))["b.md"]
    for k in list(src.docs):
        src.docs[k] += "\nPOISONPILL appears here.\n" if k == "b.md" else "\nA fresh note for everyone.\n"
    result = run(database, settings, FlakyEmbedder(embedder, "POISONPILL"), src)
    assert result.status == "partial"
    assert result.updated == 2 and result.failed == 1
    assert result.errors[0]["external_id"] == "b.md"
    assert "embedding failed" in result.errors[0]["reason"]
    texts = _texts_by_doc(chunk_rows(database))
    assert texts["b.md"] == old_b  # previous version still served
    assert all("fresh note" in " ".join(texts[k]) for k in ("a.md", "c.md"))


def test_advisory_lock_refuses_a_concurrent_ingest(database, settings, embedder, add_mem_source):
    add_mem_source()
    src = MemorySource({"a.md": _body("alpha")})
    with database.session() as s:
        source_id = sources_db.get_source(session=s, name="mem").id
    with source_lock(database, source_id) as held:
        assert held
        busy = run(database, settings, embedder, src)
    assert busy.status == "busy" and busy.run_id is None
    assert "already running" in busy.summary()
    assert chunk_rows(database) == []
    assert run(database, settings, embedder, src).status == "ok"  # released afterwards


def test_lock_holds_across_threads_while_an_ingest_runs(database, settings, embedder, add_mem_source):
    add_mem_source()
    started, release = threading.Event(), threading.Event()

    class SlowSource(MemorySource):
        def load(self, *, since=None):
            started.set()
            release.wait(30)
            yield from super().load(since=since)

    results = {}
    t = threading.Thread(target=lambda: results.setdefault(
        "first", run(database, settings, embedder, SlowSource({"a.md": _body("alpha")}))))
    t.start()
    assert started.wait(30)
    second = run(database, settings, embedder, MemorySource({"a.md": _body("alpha")}))
    release.set()
    t.join(60)
    assert second.status == "busy"
    assert results["first"].status == "ok"


def test_secrets_never_reach_the_chunks_table(database, settings, embedder, add_mem_source):
    add_mem_source()
    aws = "AKIA" + "IOSFODNN7EXAMPLQ"
    slack = "xoxb-" + "1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
    src = MemorySource({
        "setup.md": _body("setup") + f"\nUse the key {aws} and the token {slack} to connect.\n",
        "secrets.env": f"SLACK_BOT_TOKEN={slack}\nAWS_ACCESS_KEY_ID={aws}\n",
    })
    result = run(database, settings, embedder, src)
    assert result.added == 1 and result.failed == 1
    assert result.errors[0]["external_id"] == "secrets.env"
    assert "secret" in result.errors[0]["reason"]
    with database.session() as s:
        blob = s.execute(text("SELECT string_agg(text || heading_path || metadata::text, ' ') "
                              "FROM chunks")).scalar_one()
        cached = s.execute(text("SELECT count(*) FROM embedding_cache")).scalar_one()
    assert aws not in blob and slack not in blob and "REDACTED" in blob
    assert sum(result.redactions.values()) >= 2 and "redacted" in result.summary()
    assert cached == result.chunks_written


def test_model_mismatch_is_refused_and_reembed_fixes_it(database, settings, embedder, add_mem_source):
    add_mem_source()
    src = MemorySource({"a.md": _body("alpha")})
    run(database, settings, embedder, src)
    with database.session() as s:
        meta.record_model(session=s, name="some-other-model", dimension=embedder.dimension)
    with pytest.raises(meta.EmbeddingModelMismatch, match="lorebot ingest --all --reembed"):
        meta.check_embedding_model(database, embedder)
    with pytest.raises(meta.EmbeddingModelMismatch):
        run(database, settings, embedder, src)
    with database.session() as s:
        s.execute(text("UPDATE chunks SET embedding = NULL"))
    result = run(database, settings, embedder, src, reembed=True)
    assert result.status == "ok"
    assert result.reembedded == len(chunk_rows(database)) > 0
    assert result.embeddings_computed == 0  # the new model's vectors were already cached
    assert all(r.has_vec for r in chunk_rows(database))
    meta.check_embedding_model(database, embedder)  # recorded: the only source is re-embedded


def test_dimension_mismatch_names_the_schema_commands(database, embedder):
    with database.session() as s, pytest.raises(meta.EmbeddingModelMismatch,
                                                match="lorebot db downgrade base"):
        meta.check_dimension(session=s, name="big-model", dimension=768)
    meta.check_embedding_model(database, embedder)  # the configured model matches: no error


def test_unknown_source_is_a_clear_error(database, settings, embedder):
    with pytest.raises(ValueError, match="lorebot sources list"):
        ingest_source(db=database, settings=settings, name="nope", embedder=embedder)


def test_first_load_into_an_empty_store_rebuilds_the_vector_index(database, settings, embedder,
                                                                   add_mem_source):
    from knowledge.store import writer

    add_mem_source()
    src = MemorySource({"a.md": _body("alpha")})
    result = run(database, settings, embedder, src)
    assert result.status == "ok" and "index" in result.timings
    with database.session() as s:
        assert writer.has_vector_index(session=s)
        # a bulk load killed before its last step leaves no index: the next run restores it
        s.execute(text(f"DROP INDEX {writer.VECTOR_INDEX}"))
    src.docs["b.md"] = _body("beta")
    run(database, settings, embedder, src)
    with database.session() as s:
        assert writer.has_vector_index(session=s)
        indexdef = s.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
                             {"n": writer.VECTOR_INDEX}).scalar_one()
    assert "hnsw" in indexdef and "vector_cosine_ops" in indexdef and "ef_construction='64'" in indexdef


KILLED_CHILD = r'''
import os, signal, sys
sys.path.insert(0, sys.argv[3])
from bot.db.session import connect
from bot.settings import load_settings
from bot import ingest
from knowledge import pipeline
from knowledge.embeddings import embedder_from_settings
from tests.db.test_pipeline import MemorySource, _body

pipeline.FLUSH_CHUNKS = 1  # one document per model call and per transaction
settings = load_settings(_env_file=None, database_url=sys.argv[1], lorebot_data_dir=sys.argv[2])
db = connect(settings)
inner = embedder_from_settings(settings)
calls = []

class KillingEmbedder:
    name, dimension, model_id, tokenizer = inner.name, inner.dimension, inner.model_id, inner.tokenizer
    def count_tokens(self, t): return inner.count_tokens(t)
    def embed(self, texts):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)  # a kill -9 in the middle of the run
        return inner.embed(texts)

docs = {f"d{i}.md": _body(f"topic{i}") + "\nRevised after the audit.\n" for i in range(5)}
ingest.ingest_source(db=db, settings=settings, name="mem", embedder=KillingEmbedder(),
                     source_factory=lambda spec, st: MemorySource(docs))
'''


def test_kill_minus_nine_mid_run_keeps_the_index_and_the_next_run_finishes(
        database, settings, embedder, add_mem_source, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    add_mem_source()
    original = {f"d{i}.md": _body(f"topic{i}") for i in range(5)}
    run(database, settings, embedder, MemorySource(dict(original)))
    repo = str(Path(__file__).resolve().parents[2])
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_CHILD, settings.database_url.get_secret_value(),
         str(tmp_path / "child"), repo],
        cwd=repo, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == -9, proc.stderr[-2000:]
    texts = _texts_by_doc(chunk_rows(database))
    assert set(texts) == set(original)  # every document still served
    revised = [k for k, t in texts.items() if "audit" in " ".join(t)]
    assert len(revised) == 2  # the two committed before the kill; the rest at their old version
    with database.session() as s:
        assert sources_db.recent_runs(session=s)[0].status == "running"  # died without closing
    from bot.sources import describe_source

    assert "interrupted" in describe_source(db=database, name="mem")
    updated = {k: v + "\nRevised after the audit.\n" for k, v in original.items()}
    after = run(database, settings, embedder, MemorySource(updated))  # lock was freed by the kill
    assert after.status == "ok" and (after.updated, after.unchanged) == (3, 2)
    assert all("audit" in " ".join(t) for t in _texts_by_doc(chunk_rows(database)).values())
    with database.session() as s:
        statuses = [r.status for r in sources_db.recent_runs(session=s)]
    assert statuses[0] == "ok" and "interrupted" in statuses
