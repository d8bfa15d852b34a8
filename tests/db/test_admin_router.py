"""The admin router over a real database: through the CLI end to end, and as chat users.

Slack and Discord surfaces are tested by their adapters; here their actors call the router
the way the adapters do (``LoreBot.command``).
"""

from __future__ import annotations

import getpass
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.core import LoreBot
from bot.db import feedback as feedback_db
from bot.db import interactions as interactions_db
from bot.db.models import AuditLog, Feedback
from bot.settings import get_settings
from bot.types import Actor, ChannelRef

ADMIN = Actor("slack", "UADMIN")
MEMBER = Actor("slack", "UMEMBER")
DISCORD_MEMBER = Actor("discord", "111")
GENERAL = ChannelRef("slack", "CGENERAL")


@pytest.fixture
def core(settings, database):
    s = settings.model_copy(update={"lorebot_admins": ["slack:UADMIN", "discord:999"]})
    return LoreBot(settings=s, db=database)


def audit_rows(core: LoreBot) -> list[AuditLog]:
    with core.db.session() as s:
        return list(s.execute(select(AuditLog).order_by(AuditLog.id)).scalars())


def docs_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "handbook"
    folder.mkdir()
    (folder / "vacation.md").write_text(
        "# Vacation policy\n\nEmployees get 30 days of paid vacation per year. Requests go to "
        "the team lead two weeks ahead.\n")
    (folder / "deploy.md").write_text(
        "# Deploying\n\nRun `make release` from the main branch; the pipeline deploys to "
        "staging first and then to production after a manual approval.\n")
    return folder


@pytest.fixture
def cli(settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("LOREBOT_DATA_DIR", str(settings.lorebot_data_dir))
    monkeypatch.setenv("LOREBOT_LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    from bot.cli.main import app

    runner = CliRunner()
    yield lambda *args: runner.invoke(app, ["admin", *args])
    get_settings.cache_clear()


def test_cli_end_to_end_add_reindex_scope_status(cli, tmp_path, database):
    folder = docs_folder(tmp_path)
    r = cli("sources", "add", "handbook", str(folder), "--collection", "hr", "--every", "6h")
    assert r.exit_code == 0, r.output
    assert "added source handbook [folder] into collection hr, every 6h" in r.output

    r = cli("sources", "reindex", "handbook")
    assert r.exit_code == 0, r.output
    assert "started reindex of handbook" in r.output
    # the CLI waits for the background job and prints its report
    assert "reindex finished: handbook: ok - documents added 2" in r.output

    r = cli("sources", "show", "handbook")
    assert "documents: 2" in r.output and "last run: " in r.output, r.output
    next_run = next(line for line in r.output.splitlines() if "next run:" in line)
    assert next_run.strip().startswith("next run: 20") and next_run.endswith("UTC"), next_run
    r = cli("sources", "list")
    assert f"handbook [folder] {folder} -> hr; ok, 2 docs" in r.output

    r = cli("scope", "set", "slack:CHR", "hr")
    assert r.exit_code == 0 and "slack:CHR now searches only: hr" in r.output
    r = cli("scope", "show", "slack:CHR")
    assert "slack:CHR searches: hr" in r.output
    r = cli("scope", "set", "slack:CHR", "nosuch")
    assert r.exit_code == 1 and "no collection named nosuch; collections: hr" in r.output

    r = cli("status")
    assert "knowledge: 2 documents" in r.output and "last ingest: handbook" in r.output

    r = cli("sources", "add", "onlyname")
    assert r.exit_code == 1
    assert "usage: sources add NAME LOCATION" in r.output

    r = cli("frobnicate")
    assert r.exit_code == 1 and "unknown command `frobnicate`" in r.output

    r = cli("sources", "remove", "handbook")
    assert "removed source handbook with 2 documents" in r.output

    with database.session() as s:
        rows = list(s.execute(select(AuditLog).order_by(AuditLog.id)).scalars())
    assert [r.command for r in rows] == [
        "sources add", "sources reindex", "sources reindex", "sources show", "sources list", "scope set",
        "scope show", "scope set", "status", "sources add", "frobnicate", "sources remove"]
    assert {r.actor for r in rows} == {f"cli:{getpass.getuser()}"}
    assert all(r.allowed for r in rows)
    assert rows[7].outcome.startswith("error: no collection named nosuch")
    # the start is audited when the command answers, the end when the background job ends
    reindex = sorted(r.outcome for r in rows[1:3])
    assert reindex[0].startswith("finished: reindex finished: handbook: ok")
    assert reindex[1].startswith("ok: started reindex of handbook")
    assert rows[0].arguments.startswith("handbook ")


def test_cli_help_is_generated_from_the_specs(cli):
    r = cli()
    assert r.exit_code == 0
    assert "sources add NAME LOCATION" in r.output and "scope set #channel COLLECTION..." in r.output
    r = cli("help", "feedback")
    assert "feedback stats [--days N]" in r.output and "feedback export PATH" in r.output
    assert "admins only" in r.output


def test_non_admins_are_refused_politely_and_every_attempt_is_audited(core):
    refused = core.command("scope set <#CHR|hr> hr", actor=MEMBER, channel=GENERAL)
    assert not refused.ok
    assert "for lorebot admins only" in refused.text and "scope set" in refused.text
    # read-only commands that reveal nothing private stay open
    assert core.command("status", actor=MEMBER, channel=GENERAL).ok
    assert core.command("help", actor=DISCORD_MEMBER, channel=ChannelRef("discord", "5")).ok
    refused_dc = core.command("gaps", actor=DISCORD_MEMBER, channel=ChannelRef("discord", "5"))
    assert not refused_dc.ok
    # the platform's own admins count only when TRUST_PLATFORM_ADMINS is on (off by default)
    owner = Actor("discord", "777", platform_admin=True)
    assert not core.command("feedback stats", actor=owner, channel=ChannelRef("discord", "5")).ok
    trusting = LoreBot(settings=core.settings.model_copy(update={"trust_platform_admins": True}), db=core.db)
    assert trusting.command("feedback stats", actor=owner, channel=ChannelRef("discord", "5")).ok

    rows = audit_rows(core)
    assert [(r.actor, r.command, r.allowed) for r in rows] == [
        ("slack:UMEMBER", "scope set", False),
        ("slack:UMEMBER", "status", True),
        ("discord:111", "help", True),
        ("discord:111", "gaps", False),
        ("discord:777", "feedback stats", False),
        ("discord:777", "feedback stats", True),
    ]
    assert rows[0].channel == "CGENERAL" and rows[0].platform == "slack"
    assert rows[0].outcome.startswith("refused:")
    assert rows[0].arguments == "'<#CHR|hr>' hr"
    with core.db.session() as s:  # the refused command changed nothing
        from bot.db.scopes import list_scopes

        assert list_scopes(session=s) == []


def test_scope_set_show_clear_with_slack_and_discord_mentions(core, tmp_path):
    with core.db.session() as s:
        from bot.db.sources import get_or_create_collection

        for name in ("hr", "eng", "ops"):
            get_or_create_collection(session=s, name=name)
    r = core.command("scope set <#CHR|hr-team> hr", actor=ADMIN, channel=GENERAL)
    assert r.ok and r.text == "slack:CHR now searches only: hr"
    dc = ChannelRef("discord", "123")
    r = core.command("scope set <#456> eng ops eng", actor=Actor("discord", "999"), channel=dc)
    assert r.text == "discord:456 now searches only: eng, ops"
    # without a channel, show is about the channel it is typed in
    assert core.command("scope show", actor=ADMIN, channel=ChannelRef("slack", "CHR")).text == (
        "slack:CHR searches: hr")
    assert "no scope; it searches the default collection `default`" in core.command(
        "scope show", actor=ADMIN, channel=GENERAL).text
    r = core.command("scope clear <#CHR>", actor=ADMIN, channel=GENERAL)
    assert r.text.startswith("scope of slack:CHR cleared")
    r = core.command("scope clear <#CHR>", actor=ADMIN, channel=GENERAL)
    assert "had no scope" in r.text
    shown = core.command("scope show discord:456", actor=ADMIN, channel=GENERAL).text
    assert shown == "discord:456 searches: eng, ops"


def _interaction(core, question, *, abstained=False, answer="an answer"):
    with core.db.session() as s:
        return interactions_db.save_interaction(
            session=s, settings=core.settings, asker=MEMBER, platform="slack", channel="CGENERAL",
            thread=None, question=question, answer=answer, abstained=abstained).id


def test_gaps_groups_abstained_and_downvoted_questions(core):
    _interaction(core, "How do I reset my VPN password?", abstained=True)
    _interaction(core, "how can I reset the VPN password", abstained=True)
    bad = _interaction(core, "Where is the VPN password reset page?")
    _interaction(core, "What is the parking policy for visitors?", abstained=True)
    _interaction(core, "How many vacation days do I get?")  # answered well: not a gap
    with core.db.session() as s:
        feedback_db.upsert_vote(session=s, interaction_id=bad, user_hash="h1", value=-1,
                                signal="reaction")
    r = core.command("gaps --days 7", actor=ADMIN, channel=GENERAL)
    assert r.ok, r.text
    lines = r.text.splitlines()
    assert lines[0] == "4 unanswered or 👎 questions in the last 7 days, in 2 groups:"
    assert lines[1] == "1. 3x (abstained 2, 👎 1)"
    assert "parking" in r.text.split("2. 1x")[1]
    assert "vacation" not in r.text
    r = core.command("gaps --days 0", actor=ADMIN, channel=GENERAL)
    assert not r.ok and "usage: gaps [--days N]" in r.text


def test_correct_feedback_stats_and_export(core, tmp_path):
    iid = _interaction(core, "How long is the notice period?", answer="Two weeks.")
    other = _interaction(core, "Who approves expenses?")
    with core.db.session() as s:
        feedback_db.upsert_vote(session=s, interaction_id=other, user_hash="h2", value=1,
                                signal="reaction")
    r = core.command(f'correct {str(iid)[:8]} "It is one month, see the HR handbook."',
                     actor=ADMIN, channel=GENERAL)
    assert r.ok and r.text.startswith(f"correction saved for answer {str(iid)[:8]}")
    with core.db.session() as s:
        fb = s.execute(select(Feedback).where(Feedback.interaction_id == iid)).scalar_one()
    assert fb.correction == "It is one month, see the HR handbook." and fb.signal == "correction"
    r = core.command("correct 00000000 text", actor=ADMIN, channel=GENERAL)
    assert not r.ok and "no answer with reference 00000000" in r.text

    stats = core.command("feedback stats --days 7", actor=ADMIN, channel=GENERAL)
    assert "2 👍, 0 👎 (100% positive) on 2 answers; 0 comments, 1 corrections" in stats.text

    # from chat, a plain file name, written under LOREBOT_DATA_DIR/exports
    out = core.settings.lorebot_data_dir / "exports" / "fb.jsonl"
    r = core.command("feedback export fb.jsonl", actor=ADMIN, channel=GENERAL)
    assert r.ok and "exported 2 feedback rows" in r.text
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {row["interaction_id"] for row in rows} == {str(iid), str(other)}
    assert any(row["correction"] for row in rows)
    again = core.command("feedback export fb.jsonl", actor=ADMIN, channel=GENERAL)
    assert not again.ok and "already exists" in again.text
    assert len(out.read_text().splitlines()) == 2  # the refused export lost nothing


def test_long_command_answers_at_once_and_reports_through_notify(core, tmp_path):
    with core.db.session() as s:
        from bot.db.sources import create_source

        create_source(session=s, name="broken", kind="folder", location=str(tmp_path / "gone"),
                      collection="default")
    said: list[str] = []
    r = core.command("sources reindex broken", actor=ADMIN, channel=GENERAL, notify=said.append)
    assert r.ok and r.text.startswith("started reindex of broken")
    assert core.wait_for_background(60)
    assert len(said) == 1 and said[0].startswith("reindex finished: broken: failed"), said
    r = core.command("sources reindex", actor=ADMIN, channel=GENERAL)
    assert not r.ok and "give one source name, or --all" in r.text


def test_finetune_commands_say_when_fine_tuning_is_missing(core, monkeypatch):
    import sys

    import bot
    import finetune

    # As if the package were not installed: importing finetune.api fails with
    # ModuleNotFoundError, and so does the bot's composition of it (bot.style, imported afresh).
    monkeypatch.setitem(sys.modules, "finetune.api", None)
    monkeypatch.delattr(finetune, "api", raising=False)
    monkeypatch.delitem(sys.modules, "bot.style", raising=False)
    monkeypatch.delattr(bot, "style", raising=False)
    r = core.command("finetune status", actor=ADMIN, channel=GENERAL)
    assert not r.ok and r.text.startswith("fine-tuning is not installed")


def test_unbalanced_quotes_and_smart_quotes(core):
    r = core.command('correct abc "unterminated', actor=ADMIN, channel=GENERAL)
    assert not r.ok and "check the quotes" in r.text
    iid = _interaction(core, "q?")
    r = core.command(f"correct {iid} \u201cSmart quoted answer\u201d", actor=ADMIN, channel=GENERAL)
    assert r.ok, r.text
    with core.db.session() as s:
        fb = s.execute(select(Feedback).where(Feedback.interaction_id == iid)).scalar_one()
    assert fb.correction == "Smart quoted answer"
    assert uuid.UUID(str(iid))


def test_finetune_commands_reach_the_fine_tuning_module(core):
    assert core.command("finetune list", actor=ADMIN, channel=GENERAL).text == (
        "no style model versions yet; run `finetune train`")
    status = core.command("finetune status", actor=ADMIN, channel=GENERAL)
    assert status.ok and "no style model is active" in status.text
    said: list[str] = []
    r = core.command("finetune train", actor=ADMIN, channel=GENERAL, notify=said.append)
    assert r.ok and r.text.startswith("started finetune train")
    assert core.wait_for_background(120)
    # no feedback at all: the run ends at once with a reason, reported where it was asked
    assert said and said[-1].startswith("finetune train failed:"), said
    refused = core.command("finetune activate v1", actor=MEMBER, channel=GENERAL)
    assert not refused.ok and "admins only" in refused.text
