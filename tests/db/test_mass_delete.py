"""Pruning that cannot wipe by accident: an ingest that would delete more than
INGEST_MAX_DELETE_FRACTION of a source, or all of it (an empty listing), deletes nothing until
told ``--allow-mass-delete`` (CLI) / ``sources reindex NAME --allow-mass-delete`` (chat admin);
the other documents still update, and the run row records the confirmation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from bot.core import LoreBot
from bot.db.models import IngestRun
from bot.types import Actor, ChannelRef

pytestmark = pytest.mark.db

TOPICS = ("deploys", "on-call", "vacation", "expenses")


def _body(topic: str, extra: str = "") -> str:
    return (f"# {topic.capitalize()}\n\nThis page explains how the team handles {topic} in "
            f"production, with enough words to be indexed on its own. {extra}\n")


def _docs(database) -> set[str]:
    with database.session() as s:
        return set(s.execute(text("SELECT external_id FROM documents")).scalars())


def _runs(database) -> list[IngestRun]:
    with database.session() as s:
        return list(s.execute(select(IngestRun).order_by(IngestRun.id)).scalars())


@pytest.fixture
def kb(tmp_path) -> Path:
    folder = tmp_path / "kb"
    folder.mkdir()
    for t in TOPICS:
        (folder / f"{t}.md").write_text(_body(t))
    return folder


@pytest.fixture
def cli(cli_env):
    from bot.cli.main import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_cli_holds_a_mass_delete_until_confirmed(cli, kb, database):
    assert cli("sources", "add", "kb", str(kb)).exit_code == 0
    r = cli("ingest", "kb", "--json")
    assert r.exit_code == 0, r.output
    assert len(_docs(database)) == 4
    # three of four files vanish (75% > 50%) while the fourth changes
    for t in TOPICS[1:]:
        (kb / f"{t}.md").unlink()
    (kb / "deploys.md").write_text(_body("deploys", "Deploys now need two approvals."))
    r = cli("ingest", "kb", "--json")
    report = json.loads(r.stdout)
    assert report["deleted"] == 0 and report["prune_held"] == 3 and report["updated"] == 1
    assert report["status"] == "partial"
    assert any("--allow-mass-delete" in e["reason"] and "75%" in e["reason"]
               for e in report["errors"])
    assert len(_docs(database)) == 4
    r = cli("ingest", "kb")
    assert "NOT deleted; confirm with --allow-mass-delete" in r.output

    r = cli("ingest", "kb", "--allow-mass-delete", "--json")
    report = json.loads(r.stdout)
    assert report["deleted"] == 3 and report["prune_held"] == 0 and report["status"] == "ok"
    assert {Path(e).name for e in _docs(database)} == {"deploys.md"}
    runs = _runs(database)
    assert [r.allow_mass_delete for r in runs] == [False, False, False, True]
    assert runs[1].counts["prune_held"] == 3


def test_an_empty_listing_never_wipes_the_source(cli, kb, database):
    assert cli("sources", "add", "kb", str(kb)).exit_code == 0
    assert cli("ingest", "kb").exit_code == 0
    for f in kb.iterdir():  # the share did not mount: the folder is there, empty
        f.unlink()
    report = json.loads(cli("ingest", "kb", "--json").stdout)
    assert report["deleted"] == 0 and report["prune_held"] == 4
    assert any("listed no documents at all" in e["reason"] for e in report["errors"])
    assert len(_docs(database)) == 4


def test_chat_admin_confirms_with_reindex_allow_mass_delete(settings, database, kb):
    s = settings.model_copy(update={"lorebot_admins": ["slack:UADMIN"],
                                    "chat_source_folder_roots": [kb.parent]})
    core = LoreBot(settings=s, db=database)
    admin, member, chan = Actor("slack", "UADMIN"), Actor("slack", "UMEMBER"), ChannelRef("slack", "C1")
    said: list[str] = []

    def reindex(extra: str = "", actor: Actor = admin) -> str:
        said.clear()
        r = core.command(f"sources reindex kb {extra}", actor=actor, channel=chan, notify=said.append)
        assert core.wait_for_background(120)
        return said[0] if said else r.text

    assert core.command(f"sources add kb {kb}", actor=admin, channel=chan).ok
    assert "ok - documents added 4" in reindex()
    for t in TOPICS:
        (kb / f"{t}.md").unlink()
    held = reindex()
    assert "deleted 0" in held and "confirm with --allow-mass-delete" in held
    assert "for lorebot admins only" in reindex("--allow-mass-delete", actor=member)
    r = core.command("sources reindex --all --allow-mass-delete", actor=admin, channel=chan)
    assert not r.ok and "one source at a time" in r.text
    assert len(_docs(database)) == 4
    done = reindex("--allow-mass-delete")
    assert "deleted 4" in done, done
    assert _docs(database) == set()
    assert _runs(database)[-1].allow_mass_delete is True


def test_a_small_share_is_still_pruned_unasked(cli, kb, database):
    assert cli("sources", "add", "kb", str(kb)).exit_code == 0
    assert cli("ingest", "kb").exit_code == 0
    (kb / "vacation.md").unlink()  # 25%
    report = json.loads(cli("ingest", "kb", "--json").stdout)
    assert report["deleted"] == 1 and report["prune_held"] == 0 and report["status"] == "ok"
