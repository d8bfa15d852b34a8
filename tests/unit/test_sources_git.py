"""Git source on a real repository made in tmp_path: tracked files at HEAD, changes via the cursor."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fixtures.docgen import pdf_bytes

from knowledge.sources.base import SourceSpec, SourceUnavailable
from knowledge.sources.git import GitSource
from knowledge.types import Document, DocumentError


def _git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.st", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e.st", "HOME": str(repo.parent), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env,
                          check=True)
    return done.stdout.strip()


def _write(repo: Path, rel: str, data: str | bytes) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def _commit(repo: Path, message: str) -> str:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _write(repo, "README.md", "# Project\n\nHow to build.")
    _write(repo, "docs/deploy.md", "# Deploy\n\nRun make deploy.")
    _write(repo, "docs/old.md", "# Old\n\nObsolete.")
    _write(repo, "docs/plan.pdf", pdf_bytes(["Plan text"], title="Plan"))
    _write(repo, "src/app.py", "print('hi')\n")
    _write(repo, ".github/workflows/ci.yml", "on: push\n")
    _write(repo, "node_modules/x/index.js", "module.exports = 1\n")
    _write(repo, "img/logo.png", b"\x89PNG\r\n\x1a\n\x00")
    _write(repo, "empty.md", "")
    _write(repo, ".gitignore", "ignored.md\n")
    _write(repo, "ignored.md", "# Not tracked")
    return repo


def _load(repo: Path, settings, *, cursor: str | None = None, **options: object):
    source = GitSource(SourceSpec(name="r", kind="git", location=str(repo), options=options or None,
                                  cursor=cursor), settings)
    return source, {item.external_id: item for item in source.load()}


def test_tracked_files_at_head_only(repo: Path, unit_settings) -> None:
    first = _commit(repo, "first")
    _write(repo, "docs/deploy.md", "# Deploy\n\nUNCOMMITTED EDIT")
    _write(repo, "docs/untracked.md", "# Untracked")
    source, items = _load(repo, unit_settings)
    assert sorted(items) == ["README.md", "docs/deploy.md", "docs/old.md", "docs/plan.pdf", "empty.md",
                             "src/app.py"]
    deploy = items["docs/deploy.md"]
    assert isinstance(deploy, Document) and deploy.text == "# Deploy\n\nRun make deploy."
    assert deploy.version == first and deploy.metadata["commit"] == first and deploy.metadata["changed"]
    assert deploy.uri == str(repo / "docs/deploy.md") and deploy.updated_at is not None
    assert items["docs/plan.pdf"].title == "Plan" and items["src/app.py"].mime == "text/x-code"
    assert isinstance(items["empty.md"], DocumentError) and "empty" in items["empty.md"].reason
    assert source.complete is True and source.cursor == first


def test_cursor_marks_changed_files_and_deleted_files_are_gone(repo: Path, unit_settings) -> None:
    first = _commit(repo, "first")
    _write(repo, "docs/deploy.md", "# Deploy\n\nRun make deploy-v2.")
    (repo / "docs/old.md").unlink()
    _write(repo, "docs/new.md", "# New\n\nFresh page.")
    second = _commit(repo, "second")
    source, items = _load(repo, unit_settings, cursor=first, url="https://git.example.com/team/repo")
    assert "docs/old.md" not in items and source.complete is True  # complete listing: pipeline prunes it
    changed = {k for k, v in items.items() if isinstance(v, Document) and v.metadata["changed"]}
    assert changed == {"docs/deploy.md", "docs/new.md"}
    assert items["docs/deploy.md"].uri == "https://git.example.com/team/repo/blob/main/docs/deploy.md"
    assert items["docs/deploy.md"].version == second
    assert source.cursor == second
    _, again = _load(repo, unit_settings, cursor=second)
    assert not any(v.metadata["changed"] for v in again.values() if isinstance(v, Document))


def test_detached_head_links_to_the_commit(repo: Path, unit_settings) -> None:
    first = _commit(repo, "first")
    _git(repo, "checkout", "-q", "--detach", first)
    _, items = _load(repo, unit_settings, url="https://git.example.com/r")
    assert items["README.md"].uri == f"https://git.example.com/r/blob/{first}/README.md"


def test_unknown_cursor_treats_everything_as_changed(repo: Path, unit_settings) -> None:
    _commit(repo, "first")
    _, items = _load(repo, unit_settings, cursor="0" * 40)
    assert all(v.metadata["changed"] for v in items.values() if isinstance(v, Document))


def test_subfolder_location_limits_the_source(repo: Path, unit_settings) -> None:
    _commit(repo, "first")
    _, items = _load(repo / "docs", unit_settings)
    assert sorted(items) == ["docs/deploy.md", "docs/old.md", "docs/plan.pdf"]


def test_large_tracked_file_is_skipped_with_reason(repo: Path, unit_settings) -> None:
    _write(repo, "docs/big.md", "# Big\n\n" + "word " * 30_000)
    _commit(repo, "first")
    _, items = _load(repo, unit_settings.model_copy(update={"ingest_max_file_mb": 0.1}))
    assert "INGEST_MAX_FILE_MB=0.1" in items["docs/big.md"].reason
    assert isinstance(items["README.md"], Document)


def test_not_a_repository_and_missing_path_fail_at_build(tmp_path: Path, unit_settings) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(ValueError, match="not a git repository"):
        GitSource(SourceSpec(name="r", kind="git", location=str(plain)), unit_settings)
    with pytest.raises(ValueError, match="does not exist"):
        GitSource(SourceSpec(name="r", kind="git", location=str(tmp_path / "nope")), unit_settings)


def test_repository_without_commits_is_unavailable(tmp_path: Path, unit_settings) -> None:
    repo = tmp_path / "fresh"
    repo.mkdir()
    _git(repo, "init", "-q")
    source = GitSource(SourceSpec(name="r", kind="git", location=str(repo)), unit_settings)
    with pytest.raises(SourceUnavailable, match="no commits yet"):
        list(source.load())
    assert source.complete is False


def test_missing_blob_is_an_error_for_that_file_only(repo: Path, unit_settings) -> None:
    _commit(repo, "first")
    sha = _git(repo, "rev-parse", "HEAD:docs/old.md")
    obj = repo / ".git" / "objects" / sha[:2] / sha[2:]
    obj.chmod(0o644)
    obj.unlink()  # a damaged repository: the tree lists a blob that is gone
    _, items = _load(repo, unit_settings)
    assert "could not read the file from git" in items["docs/old.md"].reason
    assert isinstance(items["docs/deploy.md"], Document) and isinstance(items["README.md"], Document)
