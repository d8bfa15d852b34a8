"""The Discord adapter end to end through discord.py (dpytest + interaction payloads) and a
real Postgres: answers, threads, votes, buttons and admin commands."""

from __future__ import annotations

import asyncio
import uuid

import discord
import discord.ext.test as dpytest
import pytest
from sqlalchemy import delete, select

from adapters.discord import create_bot
from adapters.discord.views import custom_id
from bot.core import LoreBot
from bot.db.models import Feedback, Interaction
from bot.identity import user_hash
from bot.types import Actor, ChannelRef, CommandResult
from tests.discord_harness import discord_env  # noqa: F401 - the fixture
from tests.helpers.answerers import RecordingAnswerer

pytestmark = [pytest.mark.db, pytest.mark.e2e]


@pytest.fixture
def answerer(database) -> RecordingAnswerer:
    return RecordingAnswerer(database)


@pytest.fixture
async def env(discord_env, settings, database, answerer):  # noqa: F811
    core = LoreBot(settings=settings, db=database, answerer=answerer)
    bot = create_bot(settings, core)
    return await discord_env(bot)


def _votes(database) -> list[tuple[int, str, str]]:
    with database.session() as s:
        return [tuple(r) for r in s.execute(select(Feedback.value, Feedback.signal, Feedback.user_hash))]


async def test_mention_is_answered_in_a_thread_on_the_message(env, answerer, database) -> None:
    msg = await dpytest.message(f"{env.mention()} how do we deploy?", channel=env.channel, member=env.member)
    await env.settle()
    assert env.captured.threads, "no thread was created"
    thread_data = env.captured.threads[0]
    assert thread_data["id"] == str(msg.id)
    assert thread_data["name"] == "how do we deploy?"
    sent = env.sent()
    assert len(sent) == 1
    reply = sent[0]
    assert isinstance(reply.channel, discord.Thread) and reply.channel.id == msg.id
    embed = reply.embeds[0]
    assert "14:00 UTC [1]" in embed.description
    assert embed.fields[0].name == "[1] Deploying the API"
    assert "(https://docs.example.org/deploy)" in embed.fields[0].value
    call = answerer.calls[0]
    assert call["question"] == "how do we deploy?"
    assert call["channel"].id == str(env.channel.id) and call["thread"] == str(msg.id)
    with database.session() as s:
        row = s.execute(select(Interaction)).scalar_one()
    assert row.reply_ref == str(reply.id)


async def test_no_thread_permission_falls_back_to_a_reply(env, answerer, database) -> None:
    await env.deny_everyone("create_public_threads")
    question = await dpytest.message(f"{env.mention()} how do we deploy?", channel=env.channel,
                                     member=env.member)
    await env.settle()
    assert env.captured.threads == []
    sent = env.sent()
    assert len(sent) == 1
    assert sent[0].channel.id == env.channel.id
    [payload] = env.captured.messages
    assert payload["message_reference"]["message_id"] == question.id  # a reply to the question
    assert payload["allowed_mentions"] == {"parse": ["users"], "replied_user": False}  # no @everyone
    assert answerer.calls[0]["thread"] is None
    with database.session() as s:
        assert s.execute(select(Interaction.reply_ref)).scalar_one() == str(sent[0].id)


async def test_slash_ask_defers_then_answers_with_an_embed(env, answerer, database) -> None:
    await env.slash("ask", [{"name": "question", "type": 3, "value": "how do we deploy?"}])
    assert env.captured.callbacks[0]["type"] == 5  # deferred "thinking" response, first
    assert len(env.captured.followups) == 1
    followup = env.captured.followups[0]
    assert followup["allowed_mentions"]["parse"] == ["users"]  # a quoted @everyone pings nobody
    embed = followup["embeds"][0]
    assert "14:00 UTC [1]" in embed["description"]
    assert embed["fields"][0]["name"] == "[1] Deploying the API"
    custom_ids = [c["custom_id"] for row in followup["components"] for c in row["components"]]
    iid = answerer_interaction(database)
    assert custom_ids == [custom_id(1, iid), custom_id(-1, iid)]
    assert answerer.calls[0]["asker"] == Actor("discord", str(env.member.id), False)
    with database.session() as s:
        assert s.execute(select(Interaction.reply_ref)).scalar_one() == str(env.captured.followup_ids[0])


def answerer_interaction(database) -> uuid.UUID:
    with database.session() as s:
        return s.execute(select(Interaction.id)).scalar_one()


async def test_a_9000_character_answer_is_split_within_limits(env, answerer, database) -> None:
    sentence = "Blue-green switching keeps the old version serving until the new one is healthy [1]. "
    answerer.text = (sentence * 120)[:8990].rsplit(" ", 1)[0] + " end [1]."
    assert 8900 < len(answerer.text) <= 9000
    await env.slash("ask", [{"name": "question", "type": 3, "value": "explain deploys in depth"}])
    followups = env.captured.followups
    assert len(followups) == 3
    descriptions = []
    for f in followups:
        [embed] = f["embeds"]
        assert len(embed["description"]) <= 4096
        assert len(f.get("content") or "") <= 2000
        total = len(embed.get("title", "")) + len(embed["description"]) + len(
            embed.get("footer", {}).get("text", "")) + sum(
            len(x["name"]) + len(x["value"]) for x in embed.get("fields", []))
        assert total <= 6000
        descriptions.append(embed["description"])
    # nothing lost, no citation cut, sources and buttons only on the last message
    assert " ".join(descriptions).split() == answerer.text.split()
    assert sum(d.count("[1]") for d in descriptions) == answerer.text.count("[1]")
    assert all(d.rstrip().endswith(("[1].", "[1]")) for d in descriptions)
    assert [bool(f.get("components")) for f in followups] == [False, False, True]
    assert [bool(f["embeds"][0].get("fields")) for f in followups] == [False, False, True]
    with database.session() as s:
        assert s.execute(select(Interaction.reply_ref)).scalar_one() == str(env.captured.followup_ids[-1])


async def test_reactions_add_and_remove_votes(env, answerer, database, settings) -> None:
    await dpytest.message(f"{env.mention()} how do we deploy?", channel=env.channel, member=env.member)
    await env.settle()
    [answer_msg] = env.sent()
    voter = await env.add_member("Voter")
    await env.react(voter, answer_msg.id, "👍", channel=answer_msg.channel)
    voter_hash = user_hash(settings, Actor("discord", str(voter.id)))
    assert _votes(database) == [(1, "reaction", voter_hash)]
    # raw events work for messages no longer cached (e.g. sent before a restart)
    env.state._messages.clear()
    assert env.state._get_message(answer_msg.id) is None
    # switching to 👎 replaces the vote (one per person), removing the stale 👍 keeps it
    await env.react(voter, answer_msg.id, "👎🏽", channel=answer_msg.channel)
    await env.react(voter, answer_msg.id, "👍", added=False, channel=answer_msg.channel)
    assert _votes(database) == [(-1, "reaction", voter_hash)]
    await env.react(voter, answer_msg.id, "👎🏽", added=False, channel=answer_msg.channel)
    assert _votes(database) == []
    # other emoji, the bot's own reactions and unknown (e.g. deleted) messages change nothing
    await env.react(voter, answer_msg.id, "🎉", channel=answer_msg.channel)
    await env.react(env.guild.me, answer_msg.id, "👍", channel=answer_msg.channel)
    await env.react(voter, 4242424242424242, "👍")
    assert _votes(database) == []


async def test_button_vote_is_recorded(env, answerer, database, settings) -> None:
    await env.slash("ask", [{"name": "question", "type": 3, "value": "how do we deploy?"}])
    iid = answerer_interaction(database)
    voter = await env.add_member("Clicker")
    await env.click(custom_id(-1, iid), message_id=env.captured.followup_ids[0], member=voter)
    assert _votes(database) == [(-1, "button", user_hash(settings, Actor("discord", str(voter.id))))]
    reply = env.captured.callbacks[-1]
    assert reply["type"] == 4 and reply["data"]["flags"] & 64
    assert "not helpful" in reply["data"]["content"]
    # a button on an answer whose record was pruned says so instead of failing
    with database.session() as s:
        s.execute(delete(Interaction))
    await env.click(custom_id(1, iid), message_id=env.captured.followup_ids[0], member=voter)
    assert "no longer on record" in env.captured.callbacks[-1]["data"]["content"]


# --------------------------------------------------------------------------- /lore admin commands


class RecordingRouter:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Actor, ChannelRef]] = []

    def handle(self, text, *, actor, channel, notify=None) -> CommandResult:
        self.calls.append((text, actor, channel))
        if notify:
            notify("reindex finished")
        return CommandResult(text=f"ran {text}", ok=True, private=True)


def _lore(sub: str, args: str | None = None) -> list[dict]:
    options = [{"name": "args", "type": 3, "value": args}] if args is not None else []
    return [{"name": sub, "type": 1, "options": options}]


async def test_lore_subcommands_are_handed_to_the_router_with_the_admin_flag(
        discord_env, settings, database, answerer) -> None:  # noqa: F811
    router = RecordingRouter()
    env = await discord_env(create_bot(settings, LoreBot(settings=settings, db=database,
                                                         answerer=answerer, router=router)))
    await env.slash("lore", _lore("sources", "show  handbook "),
                    permissions=discord.Permissions(manage_guild=True))
    await env.slash("lore", _lore("status"))
    (text, actor, channel), (text2, actor2, _) = router.calls
    assert text == "sources show  handbook" and actor.platform_admin
    assert actor.user_id == str(env.member.id) and channel.id == str(env.channel.id)
    assert text2 == "status" and not actor2.platform_admin
    said = [f["content"] for f in env.captured.followups]
    assert "ran sources show  handbook" in said and "reindex finished" in said
    assert all(f["flags"] & 64 for f in env.captured.followups)  # admin output is private
    assert env.captured.callbacks[0] == {"type": 5, "data": {"flags": 64}}


async def test_admin_command_refused_to_a_member_and_run_for_admins(
        discord_env, settings, database) -> None:  # noqa: F811
    from bot.db.models import AuditLog

    env = await discord_env(create_bot(settings, None), members=2)
    # the real router, with a configured admin who lacks Manage Server
    configured = env.guild.members[1] if env.guild.members[1] != env.guild.me else env.guild.members[0]
    s = settings.model_copy(update={"lorebot_admins": [f"discord:{configured.id}"],
                                    "trust_platform_admins": True})
    env.bot.settings = s
    env.bot._core = LoreBot(settings=s, db=database)
    plain = next(m for m in env.guild.members if m not in (configured, env.guild.me))

    await env.slash("lore", _lore("sources", "list"), member=plain)
    refusal = env.captured.followups[-1]["content"]
    assert "admins only" in refusal
    await env.slash("lore", _lore("sources", "list"), member=plain,
                    permissions=discord.Permissions(manage_guild=True))
    as_server_admin = env.captured.followups[-1]["content"]
    await env.slash("lore", _lore("sources", "list"), member=configured)
    as_configured = env.captured.followups[-1]["content"]
    assert "admins only" not in as_server_admin and "admins only" not in as_configured
    await env.slash("lore", _lore("reindex", "--all"), member=configured)
    reindexed = env.captured.followups[-1]["content"]
    assert "unknown command" not in reindexed and "admins only" not in reindexed
    # a long command answers "started" at once and reports completion in the same place later
    for _ in range(100):
        if any("finished" in f.get("content", "") for f in env.captured.followups):
            break
        await asyncio.sleep(0.05)
        await env.settle()
    finished = [f for f in env.captured.followups if "reindex finished" in f.get("content", "")]
    assert len(finished) == 1 and finished[0]["flags"] & 64
    with database.session() as session:
        rows = session.execute(select(AuditLog.actor, AuditLog.allowed).order_by(AuditLog.id)).all()
    # refused, two runs of list, and the reindex (audited when started and when finished)
    assert [allowed for _, allowed in rows] == [False, True, True, True, True]
    assert all(a.startswith("discord:") for a, _ in rows)


async def test_unknown_subcommand_and_router_errors_get_a_clear_reply(
        discord_env, settings, database, answerer) -> None:  # noqa: F811
    class Broken:
        def handle(self, text, *, actor, channel, notify=None):
            raise RuntimeError("database went away")

    env = await discord_env(create_bot(settings, LoreBot(settings=settings, db=database,
                                                         answerer=answerer, router=Broken())))
    await env.slash("lore", _lore("frobnicate"))
    [callback] = env.captured.callbacks
    assert callback["type"] == 4 and callback["data"]["flags"] & 64
    assert "/lore help" in callback["data"]["content"]
    await env.slash("lore", _lore("status"))
    assert "reference" in env.captured.followups[-1]["content"]


# --------------------------------------------------------------------------- the real answering service


@pytest.mark.slow
async def test_ask_and_thread_follow_up_with_the_real_answering_service(
        discord_env, settings, database) -> None:  # noqa: F811
    from bot.db.scopes import set_scope
    from tests.helpers.kb import load_kb

    load_kb(database, settings)
    s = settings.model_copy(update={"style_model_enabled": False})
    core = LoreBot(settings=s, db=database)
    env = await discord_env(create_bot(s, core))
    with database.session() as session:
        set_scope(session=session, platform="discord", channel=str(env.channel.id),
                  collections=["engineering"])

    await env.slash("ask", [{"name": "question", "type": 3, "value": "How do I roll back a bad deploy?"}])
    assert env.captured.callbacks[0]["type"] == 5
    [followup] = env.captured.followups
    embed = followup["embeds"][0]
    assert "make rollback" in embed["description"]
    assert any("Deploying the API" in f["name"] for f in embed["fields"])
    assert all("Salary" not in f["name"] for f in embed["fields"])  # outside this channel's scope
    iid = core.interaction_for_reply(platform="discord", reply_ref=str(env.captured.followup_ids[0]))
    assert iid is not None
    await env.click(custom_id(1, iid), message_id=env.captured.followup_ids[0])
    assert [(v, sig) for v, sig, _ in _votes(database)] == [(1, "button")]

    # a mention starts a thread; a follow-up there (no mention) is answered in the thread
    question = await dpytest.message(f"{env.mention()} How do I roll back a bad deploy?",
                                     channel=env.channel, member=env.member)
    await env.settle()
    thread = env.guild.get_thread(question.id)
    [first] = env.sent()
    assert first.channel.id == thread.id and "make rollback" in first.embeds[0].description
    await dpytest.message("how long does it take?", channel=thread, member=env.member)
    await env.settle()
    [second] = env.sent()
    assert second.channel.id == thread.id
    # "how long does it take?" alone is unanswerable; with the thread's turn it is about rollbacks
    assert "three minutes" in second.embeds[0].description
    with database.session() as session:
        rows = session.execute(select(Interaction.thread, Interaction.standalone_question)
                               .where(Interaction.thread == str(thread.id))).all()
    assert len(rows) == 2




# --------------------------------------------------------------------------- community features


async def test_removing_one_of_two_vote_reactions_leaves_the_other(env, answerer, database,
                                                                   settings) -> None:
    """👍🏽 and 👎 on an answer, then 👎 removed: the vote is 👍 (it used to vanish)."""
    await dpytest.message(f"{env.mention()} how do we deploy?", channel=env.channel, member=env.member)
    await env.settle()
    [answer_msg] = env.sent()
    voter = await env.add_member("Voter")
    who = user_hash(settings, Actor("discord", str(voter.id)))
    await env.react(voter, answer_msg.id, "👍🏽", channel=answer_msg.channel)
    await env.react(voter, answer_msg.id, "👎", channel=answer_msg.channel)
    assert _votes(database) == [(-1, "reaction", who)]  # the last one added
    await env.react(voter, answer_msg.id, "👎", added=False, channel=answer_msg.channel)
    assert _votes(database) == [(1, "reaction", who)]
    # after a restart (a new core, nothing in memory) the reactions on record still decide
    env.bot._core = LoreBot(settings=settings, db=database, answerer=answerer)
    await env.react(voter, answer_msg.id, "👎", channel=answer_msg.channel)
    await env.react(voter, answer_msg.id, "👍🏽", added=False, channel=answer_msg.channel)
    assert _votes(database) == [(-1, "reaction", who)]
    await env.react(voter, answer_msg.id, "👎", added=False, channel=answer_msg.channel)
    assert _votes(database) == []


async def test_lore_forum_enable_then_a_post_is_answered_in_its_thread(env, answerer, database,
                                                                      settings) -> None:
    settings.trust_platform_admins = True  # Manage Server makes an admin only when trusted
    forum = await env.forum("help")
    admin = discord.Permissions(manage_guild=True)
    await env.slash("lore", _lore("forum", f"enable <#{forum.id}>"), permissions=admin)
    assert "answers every new post" in env.captured.followups[-1]["content"]
    await env.slash("lore", _lore("forum", "list"), permissions=admin)
    assert f"discord:{forum.id}" in env.captured.followups[-1]["content"]

    thread = await env.forum_post(forum, "Friday deploys", "Can I deploy on a Friday?")
    [call] = answerer.calls
    assert call["question"] == "Friday deploys\nCan I deploy on a Friday?"
    assert call["thread"] == str(thread.id) and call["channel"].id == str(forum.id)
    [answer_msg] = env.sent()
    assert answer_msg.channel.id == thread.id
    with database.session() as s:
        assert s.execute(select(Interaction.reply_ref)).scalar_one() == str(answer_msg.id)
    # the same post delivered again (a resumed session, a second replica) is not answered twice
    await env.bot.get_cog("LoreCog").on_thread_create(thread)
    await env.settle()
    assert len(answerer.calls) == 1

    await env.slash("lore", _lore("forum", f"disable <#{forum.id}>"), permissions=admin)
    await env.forum_post(forum, "Another", "Still answered?")
    assert len(answerer.calls) == 1


async def test_lore_autocomplete_lists_real_source_names_for_admins_only(
        discord_env, settings, database, answerer) -> None:  # noqa: F811
    from bot.db import sources as sources_db

    settings.trust_platform_admins = True  # Manage Server makes an admin only when trusted
    with database.session() as s:
        for name in ("handbook", "hr-policies", "runbooks"):
            sources_db.create_source(session=s, name=name, kind="folder", location="/tmp",
                                     collection="engineering")
    env = await discord_env(create_bot(settings, LoreBot(settings=settings, db=database,
                                                         answerer=answerer)))
    options = [{"name": "sources", "type": 1,
                "options": [{"name": "args", "type": 3, "value": "show h", "focused": True}]}]
    reply = await env.autocomplete("lore", options, permissions=discord.Permissions(manage_guild=True))
    assert [c["value"] for c in reply["data"]["choices"]] == ["show handbook", "show hr-policies"]
    reply = await env.autocomplete("lore", options)  # no Manage Server, not a configured admin
    assert reply["data"]["choices"] == []


@pytest.mark.slow
async def test_a_streamed_llm_answer_is_edited_in_then_finished_with_its_sources(
        discord_env, settings, database) -> None:  # noqa: F811
    """The real answering service on a stand-in OpenAI-compatible server streaming SSE: /ask's
    follow-up shows the draft, is edited as text arrives, and ends as the checked answer (the
    invented [7] dropped) with its sources and buttons."""
    from bot.db.scopes import set_scope
    from tests.helpers.kb import load_kb
    from tests.helpers.llm_server import StandInLLM

    load_kb(database, settings)
    reply = "Run make rollback ENV=prod [1]; it takes about three minutes; see also [7]."
    with StandInLLM([reply], delta_delay_s=0.05) as srv:
        s = settings.model_copy(update={"style_model_enabled": False,
                                        "llm_provider": "openai_compatible",
                                        "llm_api_base": srv.base, "llm_model": "stand-in"})
        env = await discord_env(create_bot(s, LoreBot(settings=s, db=database)))
        env.bot.get_cog("LoreCog").stream_interval_s = 0.1
        with database.session() as session:
            set_scope(session=session, platform="discord", channel=str(env.channel.id),
                      collections=["engineering"])
        await env.slash("ask", [{"name": "question", "type": 3,
                                 "value": "How do I roll back a bad deploy?"}])
    [draft] = env.captured.followups
    assert draft["content"].startswith("Run") and draft["content"].endswith("…")
    assert not draft.get("embeds")
    edits = [p for mid, p in env.captured.followup_edits if mid == env.captured.followup_ids[0]]
    drafts, final = [e["content"] for e in edits[:-1]], edits[-1]
    assert drafts and all(d.endswith("…") for d in drafts)
    assert len(edits) < len(reply.split())  # coalesced, not one edit per delta
    assert final["content"] is None and final["components"]
    embed = final["embeds"][0]
    assert embed["description"].startswith("Run make rollback ENV=prod [1]")
    assert "[7]" not in embed["description"]
    assert any("Deploying the API" in f["name"] for f in embed["fields"])
    iid = LoreBot(settings=s, db=database).interaction_for_reply(
        platform="discord", reply_ref=str(env.captured.followup_ids[0]))
    assert iid is not None
