"""JSONL source: lorebot records and BEIR corpus lines; a bad line is an error for that line only."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from knowledge.sources.base import SourceSpec
from knowledge.sources.jsonl import JsonlSource
from knowledge.types import Document, DocumentError

SCIFACT = Path(__file__).resolve().parents[3] / "shared" / "eval" / "scifact-train" / "corpus.jsonl"


def _source(path: Path, settings) -> JsonlSource:
    return JsonlSource(SourceSpec(name="j", kind="jsonl", location=str(path)), settings)


def test_records_and_bad_lines(tmp_path: Path, unit_settings) -> None:
    lines = [
        json.dumps({"id": "a", "title": "Alpha", "text": "First doc.", "url": "https://w.test/a",
                    "updated_at": "2024-05-01T00:00:00Z"}),
        "{not json",
        "",
        json.dumps({"_id": "b", "title": "", "text": "BEIR style.", "metadata": {"year": 2020}}),
        json.dumps({"title": "no id", "text": "x"}),
        json.dumps({"id": "c", "text": "  "}),
        json.dumps(["a", "list"]),
        json.dumps({"id": 7, "text": "numeric id"}),
    ]
    path = tmp_path / "docs.jsonl"
    path.write_bytes("\n".join(lines).encode() + b"\n\xff\xfe broken utf8\n")
    source = _source(path, unit_settings)
    items = list(source.load())
    docs = [i for i in items if isinstance(i, Document)]
    errors = [i for i in items if isinstance(i, DocumentError)]
    assert [d.external_id for d in docs] == ["a", "b", "7"]
    assert docs[0].title == "Alpha" and docs[0].uri == "https://w.test/a"
    assert docs[0].updated_at == datetime(2024, 5, 1, tzinfo=UTC)
    assert docs[1].metadata == {"year": 2020, "line": 4} and docs[1].uri.endswith("docs.jsonl#b")
    reasons = {e.external_id: e.reason for e in errors}
    assert "not valid UTF-8 JSON" in reasons["docs.jsonl:2"]
    assert "no \"id\"" in reasons["docs.jsonl:5"]
    assert "has no \"text\"" in reasons["c"]
    assert "not an object" in reasons["docs.jsonl:7"]
    assert "not valid UTF-8 JSON" in reasons["docs.jsonl:9"]
    assert source.complete is False  # lines whose id is unknown: nothing may be pruned


def test_since_filters_dated_records(tmp_path: Path, unit_settings) -> None:
    path = tmp_path / "d.jsonl.gz"
    rows = [{"id": "old", "text": "o", "updated_at": "2023-01-01"},
            {"id": "new", "text": "n", "updated_at": "2024-06-01"}, {"id": "undated", "text": "u"}]
    path.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in rows).encode()))
    source = _source(path, unit_settings)
    assert [d.external_id for d in source.load()] == ["old", "new", "undated"] and source.complete
    assert [d.external_id for d in source.load(since=datetime(2024, 1, 1))] == ["new", "undated"]
    assert source.complete is False


def test_oversized_record_is_an_error(tmp_path: Path, unit_settings) -> None:
    path = tmp_path / "big.jsonl"
    rows = [{"id": "big", "text": "x" * 20_000}, {"id": "s", "text": "s"}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    items = list(_source(path, unit_settings.model_copy(update={"ingest_max_file_mb": 0.01})).load())
    assert "INGEST_MAX_FILE_MB" in items[0].reason and isinstance(items[1], Document)


def test_missing_file_fails_at_build(tmp_path: Path, unit_settings) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        _source(tmp_path / "none.jsonl", unit_settings)


@pytest.mark.skipif(not SCIFACT.exists(), reason="shared SciFact corpus not present on this machine")
def test_reads_the_beir_scifact_corpus_head(tmp_path: Path, unit_settings) -> None:
    head = tmp_path / "corpus.jsonl"
    with SCIFACT.open("rb") as src:
        head.write_bytes(b"".join(next(src) for _ in range(50)))
    docs = list(_source(head, unit_settings).load())
    assert len(docs) == 50 and all(isinstance(d, Document) and d.text and d.title for d in docs)
