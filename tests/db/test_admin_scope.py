"""Channel scoping end to end: set by the admin router, enforced by ``LoreBot.ask``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import LoreBot
from bot.types import Actor, ChannelRef

SLACK_ADMIN = Actor("slack", "UADMIN")
DISCORD_ADMIN = Actor("discord", "999")
ASKER = Actor("slack", "UASK")


def _write(folder: Path, files: dict[str, str]) -> str:
    folder.mkdir(parents=True)
    for name, body in files.items():
        (folder / name).write_text(body)
    return str(folder)


@pytest.fixture
def core(settings, database, tmp_path):
    # chat admins may add folders only under the operator's roots
    s = settings.model_copy(update={"lorebot_admins": ["slack:UADMIN", "discord:999"],
                                    "chat_source_folder_roots": [tmp_path]})
    bot = LoreBot(settings=s, db=database)
    hr = _write(tmp_path / "hr", {"leave.md": (
        "# Deploying holidays\n\nTo request vacation, deploy a leave request in the HR portal. "
        "Everyone gets 30 days of paid vacation per year.\n")})
    eng = _write(tmp_path / "eng", {"deploy.md": (
        "# Deploying to production\n\nRun make release on the main branch. The pipeline deploys "
        "to staging, then to production after a manual approval.\n")})
    for name, folder in (("hr-docs", hr), ("eng-docs", eng)):
        r = bot.command(f"sources add {name} {folder} --collection {name.split('-')[0]}",
                        actor=SLACK_ADMIN, channel=ChannelRef("slack", "CADMIN"))
        assert r.ok, r.text
        from bot.ingest import ingest_source

        assert ingest_source(db=database, settings=s, name=name).status == "ok"
    return bot


def _collections(answer) -> set[str]:
    return {c.collection for c in answer.citations}


def test_a_channel_only_cites_its_own_collections_on_slack_and_discord(core):
    hr_channel = ChannelRef("slack", "CHR")
    eng_channel = ChannelRef("discord", "456")
    assert core.command("scope set <#CHR|hr> hr", actor=SLACK_ADMIN, channel=hr_channel).ok
    assert core.command("scope set <#456> eng", actor=DISCORD_ADMIN,
                        channel=ChannelRef("discord", "1")).ok

    question = "How do I deploy to production?"
    in_eng = core.ask(question, channel=eng_channel, asker=Actor("discord", "5"))
    assert not in_eng.abstained and _collections(in_eng) == {"eng"}
    # the same question in the HR channel must never cite the engineering docs
    in_hr = core.ask(question, channel=hr_channel, asker=ASKER)
    assert _collections(in_hr) <= {"hr"}
    assert all("make release" not in c.snippet for c in in_hr.citations)

    # an unscoped channel searches the default collection, which has no documents here
    other = core.ask(question, channel=ChannelRef("slack", "COTHER"), asker=ASKER)
    assert other.abstained and not other.citations

    # clearing the scope takes effect on the next question
    assert core.command("scope clear discord:456", actor=SLACK_ADMIN,
                        channel=ChannelRef("cli", "t")).ok
    after = core.ask(question, channel=eng_channel, asker=Actor("discord", "5"))
    assert after.abstained and not after.citations
