"""The audit trail fails closed: the row is written before a command runs and completed after,
odd characters never lose it, unknown commands from non-admins are refusals, and the CLI verbs
that change state are audited as cli:<os user>."""

from __future__ import annotations

import getpass

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.admin.registry import CommandSpec
from bot.admin.router import CommandRouter, build_registry
from bot.core import LoreBot
from bot.db.models import AuditLog
from bot.types import Actor, ChannelRef

pytestmark = pytest.mark.db

ADMIN = Actor("slack", "UADMIN")
MEMBER = Actor("slack", "UMEMBER")
CHAN = ChannelRef("slack", "C1")


def _rows(database) -> list[AuditLog]:
    with database.session() as s:
        return list(s.execute(select(AuditLog).order_by(AuditLog.id)).scalars())


@pytest.fixture
def core(settings, database):
    return LoreBot(settings=settings.model_copy(update={"lorebot_admins": ["slack:UADMIN"]}),
                   db=database)


def test_nul_bytes_and_refusals_are_audited(core, database):
    r = core.command("scope set slack:C9 eng\x00evil", actor=ADMIN, channel=CHAN)
    assert not r.ok
    r = core.command("scope set slack:C9 hr\x00\x1b[31m", actor=MEMBER, channel=CHAN)
    assert not r.ok and "admins only" in r.text
    r = core.command("gaps \ud800", actor=MEMBER, channel=CHAN)
    assert not r.ok
    rows = _rows(database)
    assert [(x.actor, x.command, x.allowed) for x in rows] == [
        ("slack:UADMIN", "scope set", True), ("slack:UMEMBER", "scope set", False),
        ("slack:UMEMBER", "gaps", False)]
    assert all("\x00" not in x.arguments and "\x1b" not in x.arguments for x in rows)
    assert "eng" in rows[0].arguments and "evil" in rows[0].arguments
    assert rows[0].outcome.startswith("error:") and rows[1].outcome.startswith("refused:")
    assert all(x.finished_at is not None and x.duration_ms is not None for x in rows)


def test_a_non_admins_unknown_command_is_a_refusal(core, database):
    assert not core.command("frobnicate --now", actor=MEMBER, channel=CHAN).ok
    assert not core.command("sources", actor=MEMBER, channel=CHAN).ok
    assert not core.command("frobnicate", actor=ADMIN, channel=CHAN).ok
    rows = _rows(database)
    assert [(x.actor, x.command, x.allowed) for x in rows] == [
        ("slack:UMEMBER", "frobnicate", False), ("slack:UMEMBER", "sources", False),
        ("slack:UADMIN", "frobnicate", True)]
    assert rows[0].outcome.startswith("refused:")


def test_the_row_exists_before_the_command_runs_and_survives_a_crash(settings, database):
    seen: list[tuple[str, str]] = []

    def peek(ctx, args) -> str:
        with ctx.db.session() as s:
            row = s.execute(select(AuditLog).order_by(AuditLog.id.desc())).scalars().first()
            seen.append((row.command, row.outcome))
        if args.crash:
            raise SystemExit("the process dies mid-command")
        return "looked"

    registry = build_registry()
    registry.add(CommandSpec(name="peek", usage="peek [--crash]", help="test", handler=peek,
                             arguments=lambda p: p.add_argument("--crash", action="store_true")))
    s = settings.model_copy(update={"lorebot_admins": ["slack:UADMIN"]})
    core = LoreBot(settings=s, db=database,
                   router=CommandRouter(settings=s, db=database, registry=registry))
    assert core.command("peek", actor=ADMIN, channel=CHAN).ok
    with pytest.raises(SystemExit):
        core.command("peek --crash", actor=ADMIN, channel=CHAN)
    assert seen == [("peek", "running"), ("peek", "running")]
    rows = _rows(database)
    assert [(x.command, x.outcome) for x in rows] == [("peek", "ok: looked"), ("peek", "running")]
    assert rows[0].duration_ms is not None and rows[1].finished_at is None


def test_cli_verbs_that_change_state_are_audited(cli_env, database, tmp_path):
    from bot.cli.main import app

    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nHow the team handles deploys in production, in words.\n")
    runner = CliRunner()
    assert runner.invoke(app, ["sources", "add", "kb", str(folder), "--collection", "eng"]).exit_code == 0
    assert runner.invoke(app, ["ingest", "kb"]).exit_code == 0
    assert runner.invoke(app, ["ingest", "nosuch"]).exit_code == 2
    assert runner.invoke(app, ["sources", "remove", "kb", "--yes"]).exit_code == 0
    rows = _rows(database)
    who = f"cli:{getpass.getuser()}"
    assert [(x.actor, x.platform, x.command) for x in rows] == [
        (who, "cli", "sources add"), (who, "cli", "ingest"), (who, "cli", "ingest"),
        (who, "cli", "sources remove")]
    assert "name=kb" in rows[0].arguments and "collection=eng" in rows[0].arguments
    assert [x.outcome.split(":")[0] for x in rows] == ["ok", "ok", "error", "ok"]
    assert "nosuch" in rows[2].outcome
    assert all(x.duration_ms is not None for x in rows)


def test_db_migrations_from_the_cli_are_audited(cli_env, database):
    from bot.cli.main import app

    runner = CliRunner()
    r = runner.invoke(app, ["db", "upgrade"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["db", "downgrade", "--", "-1"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["db", "upgrade"])
    assert r.exit_code == 0, r.output
    rows = _rows(database)
    assert [(x.command, x.outcome.split(":")[0]) for x in rows] == [
        ("db upgrade", "ok"), ("db downgrade", "started"), ("db upgrade", "ok")]
    assert rows[1].arguments == "revision=-1"
    assert all(x.actor == f"cli:{getpass.getuser()}" for x in rows)


def test_url_credentials_never_reach_the_audit_row(database) -> None:
    from bot.db import audit as audit_db
    from bot.db.models import AuditLog

    with database.session() as s:
        audit_db.start_command(session=s, platform="slack", actor="slack:U1", channel="C1",
                               command="sources add", arguments="wiki https://ops:Hunter2@wiki.example.com/x",
                               allowed=True, outcome="running")
    with database.session() as s:
        row = s.execute(select(AuditLog)).scalars().one()
    assert "Hunter2" not in row.arguments and "wiki.example.com/x" in row.arguments
