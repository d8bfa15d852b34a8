"""The pipeline does not prune what an unreadable folder hid: the run names the folder, keeps its
documents, and still updates the others. (The real permission check, as an unprivileged user, is in
tests/unit/test_folder_unreadable.py; here os.walk's error path is entered by failing the listing of
one folder, which is what the kernel's EACCES does.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.ingest import ingest_source
from bot.sources import add_source
from knowledge.embeddings import embedder_from_settings

pytestmark = pytest.mark.db

DOC = "# {t}\n\n{t} is documented here in enough words to make one real chunk of text for search.\n"


def _doc_ids(database) -> set[str]:
    with database.session() as s:
        return set(s.execute(text("SELECT external_id FROM documents")).scalars())


def test_unreadable_subfolder_prunes_nothing_and_names_the_folder(tmp_path: Path, database, settings,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    kb = tmp_path / "kb"
    (kb / "team").mkdir(parents=True)
    (kb / "top.md").write_text(DOC.format(t="Deploys"))
    for i in range(3):
        (kb / "team" / f"n{i}.md").write_text(DOC.format(t=f"Note {i}"))
    add_source(db=database, settings=settings, name="kb", location=str(kb))
    emb = embedder_from_settings(settings)
    first = ingest_source(db=database, settings=settings, name="kb", embedder=emb)
    assert (first.added, first.status) == (4, "ok")

    real_scandir = os.scandir
    locked = str((kb / "team").resolve())

    def scandir(path=".", *args, **kwargs):  # what the kernel answers for a folder of mode 0111
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    (kb / "top.md").write_text(DOC.format(t="Deploys") + "\nDeploys stop for the December freeze.\n")
    second = ingest_source(db=database, settings=settings, name="kb", embedder=emb)
    assert second.deleted == 0 and second.updated == 1
    assert second.status == "partial"
    errors = {e["external_id"]: e["reason"] for e in second.errors}
    assert list(errors) == ["team/"] and locked in errors["team/"] and "Permission denied" in errors["team/"]
    assert _doc_ids(database) == {"top.md", "team/n0.md", "team/n1.md", "team/n2.md"}
