"""Scopes bind to channel ids on both platforms, and `status` shows a member only what their
channel may search, privately: signed Slack slash commands through the real bolt App, Discord
interactions through discord.py, the real router and database."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest
from slack_sdk import WebClient

from adapters.discord import create_bot
from adapters.slack.app import create_app
from bot.core import LoreBot
from bot.db.scopes import get_scope, set_scope
from bot.db.sources import get_or_create_collection
from tests.discord_harness import discord_env  # noqa: F401 - the fixture
from tests.slack_harness import (
    BOT_TOKEN,
    FORM,
    SlackStandIn,
    dispatch,
    slack_settings_for,
    slash_body,
)

pytestmark = pytest.mark.db


@pytest.fixture
def stand_in():
    with SlackStandIn() as server:
        yield server


def _slack(settings, database, stand_in, **update):
    s = slack_settings_for(settings, stand_in).model_copy(
        update={"lorebot_admins": ["slack:UADMIN1"], **update})
    core = LoreBot(settings=s, db=database)
    app = create_app(core, s, client=WebClient(token=BOT_TOKEN, base_url=stand_in.api_url),
                     process_before_response=True)
    return core, app


def _slash(app, stand_in, text: str, *, user: str, channel: str = "CADMIN1") -> dict:
    dispatch(app, slash_body(text, response_url=stand_in.response_url(), user=user,
                             channel=channel), content_type=FORM)
    return stand_in.responses()[-1].params


def test_slack_scope_set_binds_the_mentioned_channel_id(settings, database, stand_in):
    core, app = _slack(settings, database, stand_in)
    with database.session() as s:
        get_or_create_collection(session=s, name="eng")
    said = _slash(app, stand_in, "admin scope set <#CPUB0001|public-lobby> eng", user="UADMIN1")
    assert said["text"] == "slack:CPUB0001 now searches only: eng"
    with database.session() as s:
        assert get_scope(session=s, platform="slack", channel="CPUB0001") == ["eng"]
        assert get_scope(session=s, platform="slack", channel="public-lobby") is None
    # a bare name cannot be resolved to an id: refused, nothing scoped
    said = _slash(app, stand_in, "admin scope set #public-lobby eng", user="UADMIN1")
    assert "channel name, not a channel id" in said["text"] and "mention the channel" in said["text"]
    said = _slash(app, stand_in, "admin scope clear <#CPUB0001|public-lobby>", user="UADMIN1")
    assert said["text"].startswith("scope of slack:CPUB0001 cleared")


def _kb(tmp_path: Path, name: str, body: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / f"{name}.md").write_text(f"# {name}\n\n{body}\n")
    return folder


def test_slack_status_in_a_scoped_channel_shows_only_that_scope_privately(
        settings, database, stand_in, tmp_path):
    from bot.ingest import ingest_source
    from bot.sources import add_source

    core, app = _slack(settings, database, stand_in)
    for name, coll, body in (("eng-docs", "eng", "Deploys go out on Tuesdays after review."),
                             ("hr-secret", "hr", "Salary bands are reviewed every March.")):
        add_source(db=database, settings=core.settings, name=name,
                   location=str(_kb(tmp_path, name, body)), collection=coll)
        assert ingest_source(db=database, settings=core.settings, name=name).status == "ok"
    with database.session() as s:
        set_scope(session=s, platform="slack", channel="CENG0001", collections=["eng"])

    said = _slash(app, stand_in, "admin status", user="UMEMBER1", channel="CENG0001")
    assert said["response_type"] == "ephemeral"
    assert "knowledge here (eng): 1 documents" in said["text"], said["text"]
    assert "hr-secret" not in said["text"] and "on disk" not in said["text"]
    # an admin sees the whole store
    said = _slash(app, stand_in, "admin status", user="UADMIN1", channel="CENG0001")
    assert "knowledge: 2 documents" in said["text"] and said["response_type"] == "ephemeral"


def _lore(sub: str, args: str | None = None) -> list[dict]:
    options = [{"name": "args", "type": 3, "value": args}] if args is not None else []
    return [{"name": sub, "type": 1, "options": options}]


async def test_discord_scope_set_takes_mention_ids_and_refuses_names(
        discord_env, settings, database) -> None:  # noqa: F811
    env = await discord_env(create_bot(settings, None))
    s = settings.model_copy(update={"lorebot_admins": [f"discord:{env.member.id}"]})
    env.bot.settings = s
    env.bot._core = LoreBot(settings=s, db=database)
    with database.session() as session:
        get_or_create_collection(session=session, name="eng")
    await env.slash("lore", _lore("scope", "set <#123456789012345678> eng"),
                    permissions=discord.Permissions(send_messages=True))
    assert env.captured.followups[-1]["content"] == (
        "discord:123456789012345678 now searches only: eng")
    await env.slash("lore", _lore("scope", "set #general eng"))
    refusal = env.captured.followups[-1]["content"]
    assert "channel name, not a channel id" in refusal
    with database.session() as session:
        assert get_scope(session=session, platform="discord", channel="general") is None
        assert get_scope(session=session, platform="discord",
                         channel="123456789012345678") == ["eng"]
