"""A folder the process cannot list makes the listing incomplete (so nothing is pruned), names the folder,
and still reads every other file. Tests run as root, which can read anything, so the listing runs in a
forked child that has dropped to the unprivileged user ``nobody``: a real permission check."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from knowledge.sources.base import SourceSpec
from knowledge.sources.folder import FolderSource
from knowledge.types import DocumentError

NOBODY = 65534


@pytest.fixture
def tree() -> Iterator[Path]:
    # under /tmp itself: pytest's tmp_path sits in a root-only folder that nobody cannot enter
    root = Path(tempfile.mkdtemp(prefix="lorebot-perm-", dir="/tmp"))
    os.chmod(root, 0o755)
    (root / "public").mkdir()
    (root / "public" / "guide.md").write_text("# Guide\n\nDeploy with make.\n")
    (root / "top.md").write_text("# Top\n\nRead me.\n")
    for name in ("locked", "exec_only", "listable_no_exec"):
        (root / name).mkdir()
        (root / name / "inside.md").write_text("# Inside\n\nSecret plans.\n")
    for path in root.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    yield root
    for path in [root, *root.rglob("*")]:
        if path.is_dir():
            os.chmod(path, 0o755)
    shutil.rmtree(root)


def _load_as_nobody(root: Path) -> dict:
    """FolderSource.load in a child process running as ``nobody``; its items and completeness."""
    settings = SimpleNamespace(ingest_max_file_mb=20.0)
    source = FolderSource(SourceSpec(name="docs", kind="folder", location=str(root)), settings)
    list(source.load())  # as root first: every module the readers import lazily is loaded before the drop
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: drop privileges for real, then list
        code = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            items = list(source.load())
            out = {"complete": source.complete, "cursor": source.cursor,
                   "docs": sorted(i.external_id for i in items if not isinstance(i, DocumentError)),
                   "errors": {i.external_id: i.reason for i in items if isinstance(i, DocumentError)}}
            os.write(write_end, json.dumps(out).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 65536):
        data += chunk
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the unprivileged child failed"
    return json.loads(data)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to fork a child that drops to nobody")
@pytest.mark.parametrize(("name", "mode"), [("locked", 0o000), ("exec_only", 0o111),
                                           ("listable_no_exec", 0o711)])
def test_unreadable_subfolder_makes_the_listing_incomplete(tree: Path, name: str, mode: int) -> None:
    if name == "listable_no_exec":  # 0711 on the source folder itself
        os.chmod(tree, mode)
    else:
        os.chmod(tree / name, mode)
    out = _load_as_nobody(tree)
    assert out["complete"] is False
    if name == "listable_no_exec":
        assert out["docs"] == [] and list(out["errors"]) == ["./"]
        assert str(tree) in out["errors"]["./"] and "Permission denied" in out["errors"]["./"]
        return
    every = ["exec_only/inside.md", "listable_no_exec/inside.md", "locked/inside.md", "public/guide.md",
             "top.md"]
    assert out["docs"] == [doc for doc in every if not doc.startswith(f"{name}/")]
    assert list(out["errors"]) == [f"{name}/"]
    assert str(tree / name) in out["errors"][f"{name}/"] and "Permission denied" in out["errors"][f"{name}/"]
    assert out["cursor"] is None  # an incremental run must not skip the files it could not see


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to fork a child that drops to nobody")
def test_readable_tree_as_nobody_is_complete(tree: Path) -> None:
    out = _load_as_nobody(tree)
    assert out["complete"] is True and out["errors"] == {}
    assert len(out["docs"]) == 5
