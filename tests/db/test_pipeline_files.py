"""End to end over real files: `sources add` -> real folder/jsonl sources -> pipeline -> database.

Each kind of bad input becomes one readable error for its own document; everything else in
the folder is indexed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.ingest import ingest_source
from bot.sources import add_source, describe_source, remove_source
from knowledge.embeddings import embedder_from_settings

pytestmark = pytest.mark.db

GOOD = """# Deploying

Deploys go out every Tuesday after the change review. The release captain runs the
checklist and posts the summary in the releases channel.

## Rollback

To roll back, redeploy the previous tag with the deploy tool and tell the on-call engineer.
"""


def _write_bad_inputs(folder: Path) -> None:
    (folder / "deploy.md").write_text(GOOD)
    (folder / "empty.md").write_text("")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 200)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage garbage\n")
    (folder / "latin1.md").write_bytes(
        "# Caf\xe9 rules\n\nThe caf\xe9 on floor two closes at five; the fa\xe7ade door locks at six.\n"
        .encode("latin-1")
    )
    with open(folder / "huge.md", "wb") as fh:  # sparse: 3 MB on paper, nothing on disk
        fh.truncate(3 * 1024 * 1024)
    (folder / "secrets.md").write_text(
        "SLACK_BOT_TOKEN=xoxb-" + "1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx\n"
        "AWS_SECRET_ACCESS_KEY=" + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    )


@pytest.fixture
def small_cap_settings(settings):
    return settings.model_copy(update={"ingest_max_file_mb": 1.0})


def _errors_by_doc(result) -> dict[str, str]:
    return {e["external_id"]: e["reason"] for e in result.errors}


def test_folder_with_every_kind_of_bad_input(tmp_path, database, small_cap_settings):
    folder = tmp_path / "kb"
    folder.mkdir()
    _write_bad_inputs(folder)
    os.symlink(folder, folder / "loop")  # a symlink loop must not hang the walk
    s = small_cap_settings
    add_source(db=database, settings=s, name="kb", location=str(folder))
    result = ingest_source(db=database, settings=s, name="kb", embedder=embedder_from_settings(s))
    errors = _errors_by_doc(result)
    assert result.status == "partial"
    assert result.added == 2, result.errors  # deploy.md and the Latin-1 file
    assert set(errors) >= {"empty.md", "binary.txt", "broken.pdf", "huge.md", "secrets.md"}
    assert "empty" in errors["empty.md"]
    assert "binary" in errors["binary.txt"]
    assert "pdf" in errors["broken.pdf"].lower()
    assert "INGEST_MAX_FILE_MB" in errors["huge.md"]
    assert "secret" in errors["secrets.md"]
    assert all(len(reason) > 10 for reason in errors.values())
    with database.session() as session:
        docs = dict(session.execute(text(
            "SELECT d.external_id, string_agg(c.text, ' ') FROM documents d "
            "JOIN chunks c ON c.document_id = d.id GROUP BY d.external_id")).all())
        heading_paths = set(session.execute(text("SELECT heading_path FROM chunks")).scalars())
    assert set(docs) == {"deploy.md", "latin1.md"}
    assert "café" in docs["latin1.md"] and "façade" in docs["latin1.md"]
    assert "Deploying > Rollback" in heading_paths
    assert "xoxb-" not in " ".join(docs.values())
    shown = describe_source(db=database, name="kb")
    assert "last errors" in shown and "huge.md" in shown and "documents: 2" in shown


def test_folder_edit_delete_and_remove(tmp_path, database, settings):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.md").write_text(GOOD)
    (folder / "b.md").write_text("# Lunch\n\nLunch is served at noon in the big room on Fridays.\n")
    add_source(db=database, settings=settings, name="kb", location=str(folder))
    emb = embedder_from_settings(settings)
    first = ingest_source(db=database, settings=settings, name="kb", embedder=emb)
    assert (first.added, first.status) == (2, "ok")
    (folder / "b.md").unlink()
    (folder / "a.md").write_text(GOOD + "\n## Freeze\n\nNo deploys during the December freeze.\n")
    second = ingest_source(db=database, settings=settings, name="kb", embedder=emb)
    assert (second.updated, second.deleted, second.added) == (1, 1, 0)
    third = ingest_source(db=database, settings=settings, name="kb", embedder=emb)
    assert (third.unchanged, third.embeddings_computed, third.chunks_written) == (1, 0, 0)
    message = remove_source(db=database, name="kb")
    assert "1 documents" in message
    with database.session() as session:
        assert session.execute(text("SELECT count(*) FROM chunks")).scalar_one() == 0
        assert session.execute(text("SELECT count(*) FROM documents")).scalar_one() == 0


def test_missing_path_is_refused_at_sources_add(tmp_path, database, settings):
    with pytest.raises(ValueError, match="does not exist"):
        add_source(db=database, settings=settings, name="gone", location=str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="unknown source kind"):
        add_source(db=database, settings=settings, name="x", location=str(tmp_path), kind="ftp")
    with pytest.raises(ValueError, match="--every or --cron"):
        add_source(db=database, settings=settings, name="x", location=str(tmp_path), every="1h",
                   cron="0 * * * *")


def test_folder_deleted_after_add_fails_the_run_without_pruning(tmp_path, database, settings):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.md").write_text(GOOD)
    add_source(db=database, settings=settings, name="kb", location=str(folder))
    emb = embedder_from_settings(settings)
    ingest_source(db=database, settings=settings, name="kb", embedder=emb)
    (folder / "a.md").unlink()
    folder.rmdir()
    result = ingest_source(db=database, settings=settings, name="kb", embedder=emb)
    assert result.status == "failed" and result.deleted == 0
    with database.session() as session:
        assert session.execute(text("SELECT count(*) FROM chunks")).scalar_one() > 0


def test_jsonl_source_with_a_bad_line(tmp_path, database, settings):
    path = tmp_path / "corpus.jsonl"
    lines = [
        json.dumps({"_id": "1", "title": "Vitamin D", "text": "Vitamin D supports bone health in adults."}),
        "{not json",
        json.dumps({"_id": "2", "title": "Sleep", "text": "Adults need seven or more hours of sleep."}),
    ]
    path.write_text("\n".join(lines) + "\n")
    add_source(db=database, settings=settings, name="beir", location=str(path))
    result = ingest_source(db=database, settings=settings, name="beir",
                           embedder=embedder_from_settings(settings))
    assert result.added == 2 and result.failed == 1
    assert "line 2" in result.errors[0]["external_id"] + result.errors[0]["reason"]


def test_sample_knowledge_ingests_cleanly(database, settings):
    from bot.cli.demo_cmd import SAMPLE_DIR

    add_source(db=database, settings=settings, name="lorebot-docs", location=str(SAMPLE_DIR))
    result = ingest_source(db=database, settings=settings, name="lorebot-docs",
                           embedder=embedder_from_settings(settings))
    assert result.status == "ok", result.errors
    assert result.added == len(list(SAMPLE_DIR.glob("*.md"))) >= 6
    with database.session() as session:
        paths = set(session.execute(text("SELECT heading_path FROM chunks")).scalars())
    assert "Using lorebot in Slack > Create the Slack app" in paths
    assert "Adding knowledge > Adding a source > Source kinds" in paths
