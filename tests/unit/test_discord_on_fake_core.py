"""The Discord adapter through real discord.py (dpytest + interaction payloads) on FakeCore:
translation, rendering and wiring, with no database and no model."""

from __future__ import annotations

import discord.ext.test as dpytest
import pytest

from adapters.discord import create_bot
from bot.settings import Settings, load_settings
from bot.types import CommandInfo
from tests.discord_harness import discord_env  # noqa: F401 - the fixture
from tests.helpers.fake_core import FakeCore
from tests.helpers.fake_core import registry_command_infos as _registry_infos


@pytest.fixture
def settings(tmp_path) -> Settings:
    return load_settings(_env_file=None, lorebot_data_dir=tmp_path / "data")


@pytest.fixture
def core(settings) -> FakeCore:
    return FakeCore(settings=settings, command_infos=_registry_infos())


@pytest.fixture
async def env(discord_env, settings, core):  # noqa: F811
    return await discord_env(create_bot(settings, core))


def _lore(sub: str, args: str | None = None) -> list[dict]:
    options = [{"name": "args", "type": 3, "value": args}] if args is not None else []
    return [{"name": sub, "type": 1, "options": options}]


async def test_every_registry_command_is_reachable_with_the_same_words(env, core) -> None:
    infos = _registry_infos()
    assert "correct" in {i.name for i in infos}
    [(_, synced)] = env.captured.synced or [(None, [])]
    subs = {o["name"]: o for o in next(c for c in synced if c["name"] == "lore")["options"]}
    assert {i.group for i in infos} <= set(subs)
    assert all(1 <= len(o["description"]) <= 100 for o in subs.values())
    for info in infos:
        rest = info.name[len(info.group):].strip()
        await env.slash("lore", _lore(info.group, f"{rest} x".strip() if rest else None))
        text = core.commands_run[-1][0]
        assert text == (f"{info.name} x" if rest else info.name), (info.name, text)
    assert len(core.commands_run) == len(infos)


async def test_a_new_registry_command_needs_no_adapter_change(discord_env, settings) -> None:  # noqa: F811
    infos = [*_registry_infos(), CommandInfo("audit show", "audit show [--days N]", "Audit rows")]
    core = FakeCore(settings=settings, command_infos=infos)
    env = await discord_env(create_bot(settings, core))
    await env.slash("lore", _lore("audit", "show --days 3"))
    assert core.commands_run[-1][0] == "audit show --days 3"


async def test_mention_answered_in_a_thread_and_its_reactions_are_votes(env, core) -> None:
    msg = await dpytest.message(f"{env.mention()} how do we deploy?", channel=env.channel,
                                member=env.member)
    await env.settle()
    assert core.asked[0]["question"] == "how do we deploy?"
    assert core.asked[0]["thread"] == str(msg.id)  # the thread Discord opens on the message
    [answer_msg] = env.sent()
    assert str(answer_msg.id) in core.replies  # attached, so reactions find the answer
    voter = await env.add_member("Voter")
    await env.react(voter, answer_msg.id, "👍🏽", channel=answer_msg.channel)
    await env.react(voter, answer_msg.id, "🎉", channel=answer_msg.channel)
    assert [(v.value, v.signal) for v in core.votes] == [(1, "reaction")]


async def test_a_redelivered_message_is_answered_once(env, core) -> None:
    msg = await dpytest.message(f"{env.mention()} how do we deploy?", channel=env.channel,
                                member=env.member)
    await env.settle()
    # A resumed gateway session (or a second replica) hands the same message over again.
    await env.bot.get_cog("LoreCog").on_message(msg)
    await env.settle()
    assert len(core.asked) == 1 and ("discord", str(msg.id)) in core.claimed


async def test_thanks_in_an_answered_thread_is_not_a_question(env, core) -> None:
    """Discord used to answer "thanks!" under an answer; now the same rule as Slack applies."""
    question = await dpytest.message(f"{env.mention()} how do we deploy?", channel=env.channel,
                                     member=env.member)
    await env.settle()
    thread = env.guild.get_thread(question.id)
    env.sent()
    await dpytest.message("thanks! 👍", channel=thread, member=env.member)
    await dpytest.message("ok", channel=thread, member=env.member)
    await env.settle()
    assert [a["question"] for a in core.asked] == ["how do we deploy?"] and env.sent() == []
    await dpytest.message("and on Fridays?", channel=thread, member=env.member)
    await env.settle()
    assert core.asked[-1]["question"] == "and on Fridays?" and len(env.sent()) == 1
