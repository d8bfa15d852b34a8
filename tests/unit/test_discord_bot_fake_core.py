"""The Discord adapter through discord.py (dpytest + interaction payloads) on FakeCore:
threads, follow-ups, DMs, usage hints, failures and command sync, with no database and no
model. (Moved from tests/test_discord_bot.py, which keeps what needs the real core.)"""

from __future__ import annotations

import discord
import discord.ext.test as dpytest
import pytest

from adapters.discord import create_bot
from bot.settings import Settings, load_settings
from tests.discord_harness import discord_env  # noqa: F401 - the fixture
from tests.helpers.answerers import RecordingAnswerer
from tests.helpers.fake_core import FakeCore
from tests.helpers.fake_core import registry_command_infos as _registry_infos


@pytest.fixture
def settings(tmp_path) -> Settings:
    """No database: overrides the root conftest's Postgres-backed settings."""
    return load_settings(_env_file=None, lorebot_data_dir=tmp_path / "data")


@pytest.fixture
def answerer() -> RecordingAnswerer:
    return RecordingAnswerer(None)


@pytest.fixture
async def env(discord_env, settings, answerer):  # noqa: F811
    return await discord_env(create_bot(settings, FakeCore(settings=settings, answerer=answerer)))


async def test_thread_follow_up_uses_the_thread_and_needs_no_mention(env, answerer) -> None:
    question = await dpytest.message(f"{env.mention()} how do we deploy?", channel=env.channel,
                                     member=env.member)
    await env.settle()
    thread = env.guild.get_thread(question.id)
    assert thread is not None
    env.sent()
    await dpytest.message("and how do I roll back?", channel=thread, member=env.member)
    await env.settle()
    follow = answerer.calls[-1]
    assert len(answerer.calls) == 2
    assert follow["question"] == "and how do I roll back?"
    assert follow["thread"] == str(thread.id) and follow["channel"].id == str(env.channel.id)
    replies = env.sent()
    assert len(replies) == 1 and replies[0].channel.id == thread.id


async def test_messages_without_a_mention_or_from_bots_are_ignored(env, answerer) -> None:
    await dpytest.message("how do we deploy?", channel=env.channel, member=env.member)
    other_bot = await env.add_member("SomeBot")
    other_bot._user.bot = True
    await dpytest.message(f"{env.mention()} hello from a bot", channel=env.channel, member=other_bot)
    await env.settle()
    assert answerer.calls == [] and env.sent() == []


async def test_answering_error_gets_an_apology_with_a_reference(env, answerer) -> None:
    answerer.fail = True
    await dpytest.message(f"{env.mention()} how do we deploy?", channel=env.channel, member=env.member)
    await env.settle()
    sent = env.sent()
    assert len(sent) == 1
    assert "Sorry" in sent[0].content and "reference" in sent[0].content
    assert not sent[0].embeds


async def test_empty_ask_gets_an_ephemeral_usage_hint(env, answerer) -> None:
    await env.slash("ask", [{"name": "question", "type": 3, "value": "   "}])
    assert answerer.calls == []
    [callback] = env.captured.callbacks
    assert callback["type"] == 4  # an immediate message, not a defer
    assert callback["data"]["flags"] & 64  # ephemeral
    assert "/ask question:" in callback["data"]["content"]


async def test_direct_messages_are_answered_when_enabled(env, answerer) -> None:
    dm = await env.member.create_dm()
    await dpytest.message("how do we deploy?", channel=dm, member=env.member)
    await env.settle()
    [call] = answerer.calls
    assert call["channel"].is_dm and call["channel"].id == str(dm.id) and call["thread"] is None
    [reply] = env.sent()
    assert reply.channel.id == dm.id and "14:00 UTC" in reply.embeds[0].description


async def test_direct_messages_are_ignored_when_disabled(discord_env, settings, answerer) -> None:  # noqa: F811
    s = settings.model_copy(update={"discord_answer_dms": False})
    env = await discord_env(create_bot(s, FakeCore(settings=s, answerer=answerer)))
    assert not env.bot.intents.dm_messages
    dm = await env.member.create_dm()
    await dpytest.message("how do we deploy?", channel=dm, member=env.member)
    await env.settle()
    assert answerer.calls == [] and env.sent() == []


async def test_commands_sync_per_guild_with_lore_hidden_behind_manage_server(
        discord_env, settings, answerer) -> None:  # noqa: F811
    s = settings.model_copy(update={"discord_guild_ids": [111222333444555666]})
    env = await discord_env(create_bot(s, FakeCore(settings=s, answerer=answerer,
                                                   command_infos=_registry_infos())))
    [(guild_id, commands)] = env.captured.synced
    assert guild_id == 111222333444555666
    by_name = {c["name"]: c for c in commands}
    assert set(by_name) == {"ask", "lore", "Ask lorebot"}
    assert by_name["Ask lorebot"]["type"] == 3  # a message context menu
    assert by_name["lore"]["default_member_permissions"] == discord.Permissions(manage_guild=True).value
    assert by_name["lore"]["dm_permission"] is False
    assert by_name["ask"]["default_member_permissions"] is None
    subs = {o["name"] for o in by_name["lore"]["options"]}
    assert subs == {"sources", "reindex", "status", "gaps", "feedback", "scope", "finetune", "help",
                    "correct", "forum"}
    args = next(o for o in by_name["lore"]["options"] if o["name"] == "sources")["options"][0]
    assert args["name"] == "args" and args["autocomplete"] is True


async def test_mention_without_a_question_gets_a_hint(env, answerer) -> None:
    await dpytest.message(f"{env.mention()}   ", channel=env.channel, member=env.member)
    await env.settle()
    assert answerer.calls == []
    [hint] = env.sent()
    assert "Ask me a question" in hint.content


async def test_other_threads_are_not_answered_without_a_mention(env, answerer) -> None:
    from discord.ext.test import backend

    starter = await dpytest.message("let's discuss lunch", channel=env.channel, member=env.member)
    thread = await starter.create_thread(name="lunch")  # a thread lorebot did not answer in
    await dpytest.message("pizza or sushi?", channel=thread, member=env.member)
    await env.settle()
    assert answerer.calls == []
    # the same message delivered twice (gateway resume, two replicas) is answered once
    await dpytest.message(f"{env.mention()} how do we deploy?", channel=thread, member=env.member)
    await env.settle()
    data = backend._cur_config.messages[thread.id][-1]
    env.state.parse_message_create(data)
    await env.settle()
    assert len(answerer.calls) == 1 and answerer.calls[0]["thread"] == str(thread.id)
    assert len([m for m in env.sent() if m.embeds]) == 1


async def test_slash_ask_inside_a_thread_passes_the_thread(env, answerer) -> None:
    question = await dpytest.message(f"{env.mention()} how do we deploy?", channel=env.channel,
                                     member=env.member)
    await env.settle()
    thread = env.guild.get_thread(question.id)
    await env.slash("ask", [{"name": "question", "type": 3, "value": "and rollbacks?"}], channel=thread)
    call = answerer.calls[-1]
    assert call["thread"] == str(thread.id) and call["channel"].id == str(env.channel.id)
    assert "embeds" in env.captured.followups[-1]
