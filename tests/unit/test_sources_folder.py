"""Folder source: what it lists, what it skips, incremental loads, and bad files that never stop it."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fixtures.docgen import docx_bytes, pdf_bytes

from knowledge.sources.base import SourceSpec, SourceUnavailable
from knowledge.sources.folder import FolderSource, glob_regex
from knowledge.types import Document, DocumentError


def _write(root: Path, rel: str, data: bytes | str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


Items = dict[str, Document | DocumentError]


def _load(location: str | Path, settings, **kwargs) -> tuple[FolderSource, Items]:
    source = FolderSource(SourceSpec(name="docs", kind="folder", location=str(location), **kwargs), settings)
    return source, {item.external_id: item for item in source.load()}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    _write(root, "guide.md", "# Guide\n\nRead me first.")
    _write(root, "ops/runbook.rst", "Runbook\n=======\n\nRestart the service.")
    _write(root, "ops/page.html", "<title>Status</title><main><h1>Status</h1><p>All good.</p></main>")
    _write(root, "ops/plan.pdf", pdf_bytes(["Quarterly plan", "Ship search."], title="Plan"))
    _write(root, "hr/handbook.docx", docx_bytes(title=None, blocks=[("h1", "Handbook"), ("p", "Be kind.")]))
    _write(root, "src/app.py", "def main():\n    return 42\n")
    _write(root, "notes.txt", "plain notes")
    _write(root, "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00")  # unsupported: silently left out
    _write(root, ".env", "TOKEN=abc")  # hidden files are never read
    _write(root, ".git/config", "[core]")
    _write(root, "node_modules/pkg/readme.md", "# dependency")
    _write(root, "venv/lib/x.md", "# venv")
    _write(root, "myenv/pyvenv.cfg", "home = /usr")
    _write(root, "myenv/lib/y.md", "# venv by marker")
    return root


def test_lists_supported_files_with_readers_and_skips_tooling(tree: Path, unit_settings) -> None:
    source, items = _load(tree, unit_settings)
    assert sorted(items) == [
        "guide.md", "hr/handbook.docx", "notes.txt", "ops/page.html", "ops/plan.pdf", "ops/runbook.rst",
        "src/app.py",
    ]
    assert all(isinstance(item, Document) for item in items.values())
    assert source.complete is True
    guide = items["guide.md"]
    assert guide.title == "Guide" and guide.mime == "text/markdown"
    assert guide.uri == str(tree.resolve() / "guide.md")
    assert guide.updated_at is not None and guide.updated_at.tzinfo is not None
    assert items["ops/runbook.rst"].text.startswith("# Runbook")
    assert items["ops/page.html"].title == "Status" and items["ops/page.html"].mime == "text/html"
    assert items["ops/plan.pdf"].title == "Plan"
    assert items["hr/handbook.docx"].text == "# Handbook\n\nBe kind."
    assert items["src/app.py"].mime == "text/x-code" and items["src/app.py"].metadata["language"] == "python"
    assert items["notes.txt"].title == "notes.txt"


def test_glob_location_limits_files_and_ids_stay_relative_to_the_glob_root(tree: Path, unit_settings) -> None:
    _, items = _load(f"{tree}/ops/**/*.rst", unit_settings)
    assert list(items) == ["runbook.rst"]
    _, items = _load(f"{tree}/**/*.md", unit_settings)
    assert list(items) == ["guide.md"]


def test_exclude_option(tree: Path, unit_settings) -> None:
    _, items = _load(tree, unit_settings, options={"exclude": ["ops/**", "*.txt"]})
    assert sorted(items) == ["guide.md", "hr/handbook.docx", "src/app.py"]
    _, same = _load(tree, unit_settings, options={"exclude": "ops/**, *.txt"})
    assert sorted(same) == sorted(items)


def test_glob_regex_semantics() -> None:
    assert glob_regex("**/*.md").match("a/b/c.md") and glob_regex("**/*.md").match("c.md")
    assert not glob_regex("*.md").match("a/c.md")
    negated = glob_regex("doc?/[!x]*.txt")
    assert negated.match("docs/a.txt") and not negated.match("docs/x.txt")


def test_incremental_load_yields_only_newer_files_and_is_not_complete(tree: Path, unit_settings) -> None:
    old = time.time() - 3600
    for path in tree.rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))
    since = datetime.now(UTC) - timedelta(minutes=5)
    _write(tree, "guide.md", "# Guide\n\nUpdated.")
    source = FolderSource(SourceSpec(name="d", kind="folder", location=str(tree)), unit_settings)
    items = list(source.load(since=since))
    assert [i.external_id for i in items] == ["guide.md"]
    assert source.complete is False
    assert source.cursor is not None and datetime.fromisoformat(source.cursor) > since
    assert len(list(source.load(since=since.replace(tzinfo=None)))) == 1  # naive means UTC


def test_bad_files_become_errors_and_good_files_still_load(tmp_path: Path, unit_settings) -> None:
    root = tmp_path / "bad"
    _write(root, "good.md", "# Good\n\nStill indexed.")
    _write(root, "empty.md", "")
    _write(root, "binary.txt", bytes(range(256)) * 4)
    _write(root, "broken.pdf", b"%PDF-1.4\n this is not a real pdf")
    _write(root, "broken.docx", b"not a zip at all")
    _write(root, "latin1.txt", ("Le café est très bon. Où est la bibliothèque? " * 5).encode("cp1252"))
    big = root / "huge.md"
    with big.open("wb") as handle:  # sparse: no real 30 MB written
        handle.truncate(30 * 1024 * 1024)
    settings = unit_settings.model_copy(update={"ingest_max_file_mb": 20.0})
    source, items = _load(root, settings)
    assert isinstance(items["good.md"], Document)
    errors = {k: v.reason for k, v in items.items() if isinstance(v, DocumentError)}
    assert set(errors) == {"empty.md", "binary.txt", "broken.pdf", "broken.docx", "huge.md"}
    assert "empty" in errors["empty.md"]
    assert "binary" in errors["binary.txt"]
    assert "PDF" in errors["broken.pdf"] and "DOCX" in errors["broken.docx"]
    assert "INGEST_MAX_FILE_MB=20" in errors["huge.md"] and "30.0 MB" in errors["huge.md"]
    latin = items["latin1.txt"]
    assert isinstance(latin, Document) and "café" in latin.text and latin.metadata["encoding"] != "utf-8"
    assert source.complete is True


def test_symlink_loops_terminate(tmp_path: Path, unit_settings) -> None:
    root = tmp_path / "loop"
    _write(root, "a/doc.md", "# A\n\ntext")
    os.symlink(root, root / "a" / "back-to-root")  # a -> root -> a -> ...
    os.symlink(root / "self.md", root / "self.md")  # a file link to itself
    _, items = _load(root, unit_settings)
    assert isinstance(items["a/doc.md"], Document)
    assert isinstance(items["self.md"], DocumentError) and "cannot read" in items["self.md"].reason
    assert len(items) == 2


def test_missing_folder_is_a_clear_error_at_build(tmp_path: Path, unit_settings) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        FolderSource(SourceSpec(name="d", kind="folder", location=str(tmp_path / "nope")), unit_settings)


def test_a_single_file_is_a_source_of_one(tree: Path, unit_settings) -> None:
    _, items = _load(tree / "ops" / "plan.pdf", unit_settings)
    assert list(items) == ["plan.pdf"] and isinstance(items["plan.pdf"], Document)


def test_undecodable_file_name_is_an_error_not_a_crash(tmp_path: Path, unit_settings) -> None:
    root = tmp_path / "names"
    root.mkdir()
    (root / "ok.md").write_text("# OK")
    fd = os.open(os.fsencode(root) + b"/bad\xff.md", os.O_CREAT | os.O_WRONLY)
    os.write(fd, b"# Bad name")
    os.close(fd)
    _, items = _load(root, unit_settings)
    assert isinstance(items["ok.md"], Document)
    assert "not valid UTF-8" in items["bad\ufffd.md"].reason


def test_folder_removed_after_build_raises_instead_of_listing_nothing(tmp_path: Path, unit_settings) -> None:
    root = tmp_path / "gone"
    _write(root, "a.md", "# A")
    source = FolderSource(SourceSpec(name="d", kind="folder", location=str(root)), unit_settings)
    (root / "a.md").unlink()
    root.rmdir()
    with pytest.raises(SourceUnavailable, match="nothing pruned"):
        list(source.load())
    assert source.complete is False


def test_links_out_of_the_folder_are_not_followed(tmp_path: Path, unit_settings) -> None:
    outside = tmp_path / "host"
    outside.mkdir()
    (outside / "secret.md").write_text("# Host\nroot password notes\n")
    root = tmp_path / "docs"
    (root / "inner").mkdir(parents=True)
    (root / "guide.md").write_text("# Guide\nHow we deploy.\n")
    (root / "inner" / "more.md").write_text("# More\nDetails.\n")
    (root / "escape").symlink_to(outside)  # a folder link out of the source
    (root / "leak.md").symlink_to(outside / "secret.md")  # a file link out of the source
    (root / "alias").symlink_to(root / "inner")  # a link that stays inside is followed
    source = FolderSource(SourceSpec(name="docs", kind="folder", location=str(root)), unit_settings)
    listed = sorted(p.relative_to(root).as_posix() for p in source.files())
    assert listed == ["alias/more.md", "guide.md"] or listed == ["guide.md", "inner/more.md"]
    assert not any("secret" in p or "leak" in p or "escape" in p for p in listed)
