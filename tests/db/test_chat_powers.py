"""Powers by place: chat admins add sources only inside the operator's allow-lists and export
only under LOREBOT_DATA_DIR/exports; the operator's CLI on the host is not limited."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.core import LoreBot
from bot.db import interactions as interactions_db
from bot.db.models import Source
from bot.types import Actor, ChannelRef

pytestmark = pytest.mark.db

ADMIN = Actor("slack", "UADMIN")
CHAN = ChannelRef("slack", "CADMIN")


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "a.md").write_text("# A\n\nSome text about the team's deploys.\n")
    return path


def _core(settings, database, **update) -> LoreBot:
    s = settings.model_copy(update={"lorebot_admins": ["slack:UADMIN"], **update})
    return LoreBot(settings=s, db=database)


def _sources(database) -> dict[str, str]:
    with database.session() as s:
        return {r.name: r.location for r in s.execute(select(Source)).scalars()}


def test_by_default_chat_may_add_no_folder_and_no_url(settings, database, tmp_path):
    core = _core(settings, database)
    folder = _folder(tmp_path / "docs")
    r = core.command(f"sources add docs {folder}", actor=ADMIN, channel=CHAN)
    assert not r.ok and "CHAT_SOURCE_FOLDER_ROOTS" in r.text
    r = core.command("sources add etc /etc", actor=ADMIN, channel=CHAN)
    assert not r.ok and "CHAT_SOURCE_FOLDER_ROOTS" in r.text
    r = core.command("sources add meta http://169.254.169.254/latest/meta-data/", actor=ADMIN,
                     channel=CHAN)
    assert not r.ok and "CHAT_SOURCE_URL_HOSTS" in r.text
    assert _sources(database) == {}


def test_chat_folders_only_under_the_roots_resolved(settings, database, tmp_path):
    root = tmp_path / "kb"
    inside = _folder(root / "handbook")
    outside = _folder(tmp_path / "private")
    (root / "escape").symlink_to(outside)  # a link inside the root pointing out of it
    core = _core(settings, database, chat_source_folder_roots=[root])

    r = core.command(f"sources add handbook {inside}", actor=ADMIN, channel=CHAN)
    assert r.ok, r.text
    for location in (str(outside), str(root / "escape"), f"{root}/handbook/../../private",
                     "/etc", "handbook"):
        r = core.command(f"sources add x {location}", actor=ADMIN, channel=CHAN)
        assert not r.ok, location
        assert "CHAT_SOURCE_FOLDER_ROOTS" in r.text or "`..`" in r.text, r.text
    # a glob under the root is fine, stored resolved
    r = core.command(f"sources add globbed '{inside}/*.md'", actor=ADMIN, channel=CHAN)
    assert r.ok, r.text
    stored = _sources(database)
    assert set(stored) == {"handbook", "globbed"}
    assert stored["handbook"] == os.path.realpath(inside)

    # removing a source the operator added outside the roots is the operator's business
    with database.session() as s:
        from bot.db.sources import create_source

        create_source(session=s, name="ops", kind="folder", location=str(outside),
                      collection="default")
    r = core.command("sources remove ops", actor=ADMIN, channel=CHAN)
    assert not r.ok and "CHAT_SOURCE_FOLDER_ROOTS" in r.text
    assert "ops" in _sources(database)
    assert core.command("sources remove handbook", actor=ADMIN, channel=CHAN).ok


def test_chat_urls_only_on_allowed_hosts_and_kinds(settings, database):
    core = _core(settings, database, chat_source_url_hosts=["wiki.example.com", "*.docs.example.com"],
                 chat_source_kinds=["web"])
    assert core.command("sources add wiki https://wiki.example.com/start", actor=ADMIN,
                        channel=CHAN).ok
    assert core.command("sources add api https://api.docs.example.com/", actor=ADMIN,
                        channel=CHAN).ok
    for url in ("http://169.254.169.254/", "http://metadata.google.internal/", "http://10.0.0.1/",
                "http://[::1]/", "http://2130706433/", "https://wiki.example.com.evil.net/",
                "https://user:pw@wiki.example.com/"):
        r = core.command(f"sources add bad {url}", actor=ADMIN, channel=CHAN)
        assert not r.ok, url
    r = core.command("sources add eng /tmp --kind folder", actor=ADMIN, channel=CHAN)
    assert not r.ok and "CHAT_SOURCE_KINDS" in r.text
    assert set(_sources(database)) == {"wiki", "api"}


@pytest.fixture
def cli(cli_env):
    from bot.cli.main import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_the_cli_on_the_host_is_the_operator_and_says_so(cli, database, tmp_path):
    folder = _folder(tmp_path / "anywhere")
    r = cli("admin", "sources", "add", "anywhere", str(folder))
    assert r.exit_code == 0, r.output
    r = cli("sources", "add", "other", str(folder))
    assert r.exit_code == 0, r.output
    assert set(_sources(database)) == {"anywhere", "other"}
    r = cli("sources", "add", "--help")
    assert r.exit_code == 0 and "CHAT_SOURCE_FOLDER_ROOTS" in r.output and "operator" in r.output
    r = cli("admin", "--help")
    assert r.exit_code == 0 and "operator" in r.output


def _one_vote(core: LoreBot) -> None:
    with core.db.session() as s:
        interactions_db.save_interaction(
            session=s, settings=core.settings, asker=ADMIN, platform="slack", channel="C1",
            thread=None, question="How do deploys work?", answer="Run make release.",
            abstained=False)


def test_chat_exports_only_a_plain_name_under_exports(settings, database, tmp_path):
    core = _core(settings, database)
    _one_vote(core)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    for path in (str(victim), "../victim.txt", "sub/fb.jsonl", ".hidden", "/etc/passwd"):
        r = core.command(f"feedback export {path} --overwrite", actor=ADMIN, channel=CHAN)
        assert not r.ok and "plain file name" in r.text, (path, r.text)
    assert victim.read_text() == "precious\n"

    exports = core.settings.lorebot_data_dir / "exports"
    r = core.command("feedback export fb.jsonl", actor=ADMIN, channel=CHAN)
    assert r.ok, r.text
    assert str(exports / "fb.jsonl") in r.text
    rows = (exports / "fb.jsonl").read_text().splitlines()
    assert all(json.loads(line) for line in rows)

    # a symlink planted at the name (or at the old NAME.partial) is never written through
    (exports / "planted.jsonl").symlink_to(victim)
    (exports / "fresh.jsonl.partial").symlink_to(victim)
    r = core.command("feedback export planted.jsonl", actor=ADMIN, channel=CHAN)
    assert not r.ok and "already exists" in r.text
    r = core.command("feedback export fresh.jsonl", actor=ADMIN, channel=CHAN)
    assert r.ok, r.text
    r = core.command("feedback export planted.jsonl --overwrite", actor=ADMIN, channel=CHAN)
    assert r.ok, r.text
    assert victim.read_text() == "precious\n"  # the link was replaced, its target untouched
    assert not (exports / "planted.jsonl").is_symlink()
    assert not [p for p in exports.iterdir() if p.name.startswith(".")]  # no temp file left


def test_the_operator_exports_anywhere_from_the_cli(cli, database, tmp_path):
    out = tmp_path / "out.jsonl"
    r = cli("admin", "feedback", "export", str(out))
    assert r.exit_code == 0, r.output
    assert out.exists()
    r = cli("admin", "feedback", "export", str(out))
    assert r.exit_code == 1 and "already exists" in r.output
