"""The store records which precision made its vectors; another one is refused (writes) or
warned about (reads), with the setting that fixes it. Real Postgres, real MiniLM."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from bot.db import sources as sources_db
from bot.ingest import ingest_source
from knowledge.embeddings import Embedder
from knowledge.store import vector_facts
from knowledge.types import Document

pytestmark = pytest.mark.db


class _Docs:
    complete = True
    cursor = None

    def __init__(self, docs: dict[str, str]) -> None:
        self.docs = docs

    def load(self, *, since=None):
        for ext, body in sorted(self.docs.items()):
            yield Document(external_id=ext, text=body, title=ext, uri=f"mem://{ext}", mime="text/plain")


@pytest.fixture(scope="module")
def fp32() -> Embedder:
    return Embedder("all-MiniLM-L6-v2", precision="fp32", runtime="torch")


@pytest.fixture(scope="module")
def bf16() -> Embedder:
    return Embedder("all-MiniLM-L6-v2", precision="bf16", runtime="torch")


def _ingest(database, settings, embedder, docs, **kw):
    return ingest_source(db=database, settings=settings, name="mem", embedder=embedder,
                         source_factory=lambda spec, st: _Docs(docs), **kw)


def test_other_precision_is_refused_for_writes_and_warned_for_reads(database, settings, fp32, bf16,
                                                                    caplog):
    with database.session() as s:
        sources_db.create_source(session=s, name="mem", kind="folder", location="/nowhere",
                                 collection="default")
    docs = {"a": "Deploys roll back with the previous tag. " * 5}
    assert _ingest(database, settings, fp32, docs).status == "ok"
    with database.session() as s:
        stored = vector_facts.stored_vectors(session=s)
    assert stored is not None and stored.fingerprint == "all-MiniLM-L6-v2|384|fp32"
    assert (stored.runtime, stored.precision) == ("torch", "fp32")

    docs["b"] = "The on-call rotation changes on Mondays. " * 5
    with pytest.raises(vector_facts.VectorFingerprintMismatch, match="EMBEDDING_PRECISION=fp32"):
        _ingest(database, settings, bf16, docs)
    with database.session() as s:  # nothing of the refused run was written
        assert s.execute(text("SELECT count(*) FROM documents")).scalar_one() == 1
        with caplog.at_level(logging.WARNING):
            warning = vector_facts.check_vectors(session=s, embedder=bf16, writing=False)
    assert warning and "--reembed" in warning and "EMBEDDING_PRECISION=fp32" in caplog.text
    with database.session() as s:
        assert vector_facts.check_vectors(session=s, embedder=fp32, writing=True) is None

    # re-embedding in bf16 moves the store over; then fp32 is the one refused
    assert _ingest(database, settings, bf16, docs, reembed=True).status == "ok"
    with database.session() as s:
        assert vector_facts.stored_vectors(session=s).fingerprint.endswith("|bf16")
    with pytest.raises(vector_facts.VectorFingerprintMismatch, match="EMBEDDING_PRECISION=bf16"):
        _ingest(database, settings, fp32, docs)


def test_a_store_without_a_fingerprint_takes_the_first_writers(database, fp32):
    with database.session() as s:
        assert vector_facts.stored_vectors(session=s) is None
        assert vector_facts.check_vectors(session=s, embedder=fp32, writing=False) is None
        assert vector_facts.stored_vectors(session=s) is None  # a reader records nothing
        vector_facts.check_vectors(session=s, embedder=fp32, writing=True)
    with database.session() as s:
        assert vector_facts.stored_vectors(session=s).fingerprint == fp32.fingerprint


def test_doctor_shows_the_choice_and_a_store_of_another_precision(database, cli_env, bf16):
    from typer.testing import CliRunner

    from bot.cli.main import app
    from bot.settings import get_settings

    cli_env.setenv("EMBEDDING_PRECISION", "fp32")
    cli_env.setenv("EMBEDDING_RUNTIME", "torch")
    get_settings.cache_clear()
    first = CliRunner().invoke(app, ["doctor"])
    assert first.exit_code == 0, first.output
    assert "runtime       ok  torch fp32 (EMBEDDING_PRECISION=fp32" in first.output
    assert "set by EMBEDDING_PRECISION/EMBEDDING_RUNTIME" in first.output
    assert "none recorded yet" in first.output
    with database.session() as s:
        vector_facts.record_vectors(session=s, embedder=bf16)
    second = CliRunner().invoke(app, ["doctor"])
    assert "store all-MiniLM-L6-v2|384|bf16, this process all-MiniLM-L6-v2|384|fp32" in second.output
    assert "Set EMBEDDING_PRECISION=bf16" in second.output
