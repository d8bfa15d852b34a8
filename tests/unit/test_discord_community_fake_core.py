"""Discord as communities use it, through real discord.py (dpytest + interaction payloads) on
FakeCore: the message menu, forum posts, autocomplete, streamed drafts, role mentions, limited
replies and private admin output."""

from __future__ import annotations

import datetime as dt

import discord
import discord.ext.test as dpytest
import pytest
from discord.ext.test import backend as dpy_backend

from adapters.discord import create_bot
from adapters.discord.views import SHARE_ID
from bot.settings import Settings, load_settings
from bot.types import CommandResult
from tests.discord_harness import discord_env, snowflake  # noqa: F401 - the fixture
from tests.helpers.fake_core import FakeCore
from tests.helpers.fake_core import registry_command_infos as _registry_infos

EPHEMERAL = 64




@pytest.fixture
def settings(tmp_path) -> Settings:
    return load_settings(_env_file=None, lorebot_data_dir=tmp_path / "data")


@pytest.fixture
def core(settings) -> FakeCore:
    return FakeCore(settings=settings, command_infos=_registry_infos())


@pytest.fixture
async def env(discord_env, settings, core):  # noqa: F811
    return await discord_env(create_bot(settings, core))


def _components(payload: dict) -> list[str]:
    return [c["custom_id"] for row in payload.get("components") or [] for c in row["components"]]


# --------------------------------------------------------------------------- "Ask lorebot"


async def test_ask_lorebot_on_a_message_answers_privately_with_a_share_button(env, core) -> None:
    author = await env.add_member("Asker")
    target = await dpytest.message("how do we deploy on Fridays?", channel=env.channel, member=author)
    await env.settle()
    env.sent()
    await env.message_command("Ask lorebot", target)
    assert core.asked[-1]["question"] == "how do we deploy on Fridays?"
    assert core.asked[-1]["asker"].user_id == str(env.member.id)  # who asked, not who wrote it
    assert core.asked[-1]["thread"] is None
    assert env.captured.callbacks[0] == {"type": 5, "data": {"flags": EPHEMERAL}}
    [answer] = env.captured.followups
    assert answer["flags"] & EPHEMERAL
    [iid] = set(core.replies.values())
    assert SHARE_ID.format(interaction_id=iid) in _components(answer)

    # "Share in channel" posts the same embed publicly, with the vote buttons
    await env.click(SHARE_ID.format(interaction_id=iid), message_id=env.captured.followup_ids[0])
    shared = env.captured.callbacks[-1]
    assert shared["type"] == 4 and not shared["data"].get("flags", 0) & EPHEMERAL
    assert shared["data"]["embeds"][0]["description"] == answer["embeds"][0]["description"]
    assert len(_components(shared["data"])) == 2
    assert shared["data"]["allowed_mentions"]["parse"] == []
    # reactions on the public copy count as votes on the same answer
    assert core.replies[str(env.captured.callback_message_ids[-1])] == iid


async def test_ask_lorebot_on_a_message_without_text_says_so(env, core) -> None:
    target = await dpytest.message(f"{env.mention()}", channel=env.channel, member=env.member)
    await env.settle()
    env.sent()
    before = len(core.asked)
    await env.message_command("Ask lorebot", target)
    assert len(core.asked) == before
    reply = env.captured.callbacks[-1]
    assert reply["type"] == 4 and reply["data"]["flags"] & EPHEMERAL
    assert "no text" in reply["data"]["content"]


# --------------------------------------------------------------------------- forums


async def test_a_post_in_an_enabled_forum_is_answered_in_its_thread(env, core, settings) -> None:
    forum = await env.forum("help", tags=("answered",))
    core.forums.add(("discord", str(forum.id)))
    poster = await env.add_member("Poster")
    thread = await env.forum_post(forum, "Deploy on Fridays?", "Is it allowed after 14:00?",
                                  member=poster)
    [asked] = core.asked  # the starter message is not answered a second time as a follow-up
    assert asked["question"] == "Deploy on Fridays?\nIs it allowed after 14:00?"
    assert asked["thread"] == str(thread.id) and asked["channel"].id == str(forum.id)
    [answer] = env.sent()
    assert answer.channel.id == thread.id and answer.embeds

    # a follow-up in the post's thread is answered as in any thread lorebot answered in
    await dpytest.message("and on Saturdays?", channel=thread, member=poster)
    await env.settle()
    assert core.asked[-1]["question"] == "and on Saturdays?"
    env.sent()

    # someone else's 👍 does not tag the post; the asker's does, once
    other = await env.add_member("Other")
    await env.react(other, answer.id, "👍", channel=thread)
    assert env.captured.tags_added == []
    await env.react(poster, answer.id, "👍🏽", channel=thread)
    [tag] = forum.available_tags
    assert env.captured.tags_added == [(thread.id, [tag.id])]


async def test_the_askers_helpful_button_tags_the_post_too(env, core) -> None:
    from adapters.discord.views import custom_id

    forum = await env.forum("help", tags=("bug", "Answered"))
    core.forums.add(("discord", str(forum.id)))
    poster = await env.add_member("Poster")
    thread = await env.forum_post(forum, "Deploy on Fridays?", "Allowed?", member=poster)
    [answer] = env.sent()
    [payload] = [m for m in env.captured.messages if m["channel_id"] == thread.id]
    iid = core.replies[str(answer.id)]
    await env.click(custom_id(-1, iid), message_id=answer.id, sent=payload, member=poster,
                    channel=thread)
    assert env.captured.tags_added == []  # not helpful: no tag
    await env.click(custom_id(1, iid), message_id=answer.id, sent=payload, member=poster,
                    channel=thread)
    answered = next(t for t in forum.available_tags if t.name == "Answered")
    assert env.captured.tags_added == [(thread.id, [answered.id])]


async def test_a_post_in_a_forum_not_enabled_is_left_alone(env, core) -> None:
    forum = await env.forum("general")
    await env.forum_post(forum, "Deploy on Fridays?", "Is it allowed?")
    assert core.asked == [] and env.sent() == []


# --------------------------------------------------------------------------- autocomplete


def _focused(sub: str, value: str) -> list[dict]:
    return [{"name": sub, "type": 1,
             "options": [{"name": "args", "type": 3, "value": value, "focused": True}]}]


async def test_lore_arguments_that_name_things_are_completed(env, core) -> None:
    core.names = {"source": ["handbook", "hr-policies", "runbooks"], "model_version": ["v3", "v4"]}
    admin = discord.Permissions(manage_guild=True)
    reply = await env.autocomplete("lore", _focused("sources", "show h"), permissions=admin)
    assert reply["type"] == 8
    assert [c["value"] for c in reply["data"]["choices"]] == ["show handbook", "show hr-policies"]
    kind, prefix, actor = core.completed[-1]
    assert (kind, prefix, actor.platform_admin) == ("source", "h", True)
    # the subcommand word itself, from the registry
    reply = await env.autocomplete("lore", _focused("finetune", "ac"), permissions=admin)
    assert [c["value"] for c in reply["data"]["choices"]] == ["activate"]
    reply = await env.autocomplete("lore", _focused("finetune", "activate "), permissions=admin)
    assert [c["value"] for c in reply["data"]["choices"]] == ["activate v3", "activate v4"]
    # the shortcut /lore reindex completes a source straight away; free text gets nothing
    reply = await env.autocomplete("lore", _focused("reindex", "ru"), permissions=admin)
    assert [c["value"] for c in reply["data"]["choices"]] == ["runbooks"]
    reply = await env.autocomplete("lore", _focused("gaps", "--da"), permissions=admin)
    assert reply["data"]["choices"] == []


# --------------------------------------------------------------------------- streaming


async def test_a_streamed_answer_is_edited_as_it_arrives_then_finished_with_sources(
        env, core) -> None:
    core.stream_pieces = ["Deploys ", "run ", "from ", "main ", "at ", "14:00."]
    core.stream_delay_s = 0.05
    env.bot.get_cog("LoreCog").stream_interval_s = 0.08
    question = await dpytest.message(f"{env.mention()} how do we deploy?", channel=env.channel,
                                     member=env.member)
    await env.settle()
    assert core.asked[0]["streamed_to"]
    [draft_payload] = [m for m in env.captured.messages if m["channel_id"] == question.id]
    assert draft_payload["content"].startswith("Deploys") and draft_payload["content"].endswith("…")
    assert draft_payload["allowed_mentions"]["parse"] == ["users"]
    [message] = env.sent()
    edits = [payload for mid, payload in env.captured.edits if mid == message.id]
    drafts = [e["content"] for e in edits if e.get("content")]
    finals = [e for e in edits if e.get("embeds")]
    # coalesced: fewer edits than pieces, each draft longer than the last, then the final
    assert 1 <= len(drafts) < len(core.stream_pieces)
    assert all(len(a) < len(b) for a, b in zip(drafts, drafts[1:], strict=False))
    [final] = finals
    assert final is edits[-1] and final["content"] is None  # the draft text is gone
    assert "14:00 UTC [1]" in final["embeds"][0]["description"]  # the checked final text
    assert final["embeds"][0]["fields"][0]["name"] == "[1] Deploying the API"
    assert len(_components(final)) == 2
    assert core.replies[str(message.id)]


async def test_a_stream_that_fails_ends_with_the_apology_not_half_an_answer(env, core) -> None:
    core.stream_pieces = ["Deploys ", "run ", "from "]
    core.fail_stream_after = 2
    core.stream_delay_s = 0.05
    env.bot.get_cog("LoreCog").stream_interval_s = 0.01
    await dpytest.message(f"{env.mention()} how do we deploy?", channel=env.channel,
                          member=env.member)
    await env.settle()
    [message] = env.sent()
    last = [payload for mid, payload in env.captured.edits if mid == message.id][-1]
    assert "reference" in last["content"] and "Deploys" not in last["content"]
    assert last["embeds"] == [] and last["components"] == []


async def test_an_answer_without_a_stream_is_sent_once_complete(env, core) -> None:
    await env.slash("ask", [{"name": "question", "type": 3, "value": "how do we deploy?"}])
    [followup] = env.captured.followups
    assert followup["embeds"] and env.captured.followup_edits == [] and env.captured.edits == []


# --------------------------------------------------------------------------- mentions, limits


async def test_a_mention_of_the_bots_managed_role_is_a_mention_of_the_bot(env, core) -> None:
    data = {"id": str(snowflake()), "name": "lorebot", "color": 0, "hoist": False, "position": 1,
            "permissions": "0", "managed": True, "mentionable": True,
            "tags": {"bot_id": str(env.bot.user.id)}}
    role = discord.Role(guild=env.guild, state=env.state, data=data)
    env.guild._add_role(role)
    other = dpy_backend.make_role("Helpers", env.guild)
    await dpytest.message(f"<@&{other.id}> anyone around?", channel=env.channel, member=env.member)
    await env.settle()
    assert core.asked == []
    await dpytest.message(f"<@&{role.id}> how do we deploy?", channel=env.channel, member=env.member)
    await env.settle()
    assert [a["question"] for a in core.asked] == ["how do we deploy?"]


async def test_a_limited_question_gets_the_friendly_reply_not_silence(env, core) -> None:
    core.limited_text = "Easy there: 5 questions a minute. Try again in 40 seconds."
    question = await dpytest.message(f"{env.mention()} how do we deploy?", channel=env.channel,
                                     member=env.member)
    await env.settle()
    assert core.asked == []
    [reply] = env.sent()
    assert reply.content == core.limited_text
    [payload] = env.captured.messages
    assert payload["message_reference"]["message_id"] == question.id


# --------------------------------------------------------------------------- private admin output


class LongResults(FakeCore):
    def command(self, text, *, actor, channel, notify=None) -> CommandResult:
        super().command(text, actor=actor, channel=channel, notify=notify)
        rows = "\n".join(f"source-{i:03d}  handbook  ok  120 docs  every 6h" for i in range(150))
        # a command anyone may run: its result is still not posted for the channel to see
        return CommandResult(text=rows, private=False)


async def test_a_long_lore_result_stays_private_in_every_piece(discord_env, settings) -> None:  # noqa: F811
    env = await discord_env(create_bot(settings, LongResults(settings=settings,
                                                             command_infos=_registry_infos())))
    await env.slash("lore", [{"name": "sources", "type": 1,
                              "options": [{"name": "args", "type": 3, "value": "list"}]}])
    pieces = env.captured.followups
    assert len(pieces) >= 3 and all(len(p["content"]) <= 2000 for p in pieces)
    assert all(p["flags"] & EPHEMERAL for p in pieces)
    assert env.captured.messages == []  # nothing in the channel


async def test_after_the_token_expires_lore_results_go_by_dm(  # noqa: F811
        discord_env, settings) -> None:  # noqa: F811
    env = await discord_env(create_bot(settings, LongResults(settings=settings,
                                                             command_infos=_registry_infos())))
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
    await env.slash("lore", [{"name": "sources", "type": 1,
                              "options": [{"name": "args", "type": 3, "value": "list"}]}],
                    created_at=long_ago)
    assert env.captured.followups == []
    dms = env.captured.messages
    assert len(dms) >= 3 and all(m["channel_id"] != env.channel.id for m in dms)
    assert "source-000" in dms[0]["content"]
    dm_ids = {m["channel_id"] for m in dms}
    assert len(dm_ids) == 1
    assert isinstance(env.bot.get_channel(dm_ids.pop()), discord.DMChannel)


async def test_a_token_that_dies_mid_result_moves_the_rest_to_dm(  # noqa: F811
        discord_env, settings, monkeypatch) -> None:  # noqa: F811
    from discord.webhook.async_ import AsyncWebhookAdapter

    env = await discord_env(create_bot(settings, LongResults(settings=settings,
                                                             command_infos=_registry_infos())))
    original = AsyncWebhookAdapter.execute_webhook
    calls = {"n": 0}

    class Response:
        status = 401
        reason = "Unauthorized"

    async def expiring(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 1:
            raise discord.HTTPException(Response(), {"code": 50027, "message": "Invalid Webhook Token"})
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(AsyncWebhookAdapter, "execute_webhook", expiring)
    await env.slash("lore", [{"name": "sources", "type": 1,
                              "options": [{"name": "args", "type": 3, "value": "list"}]}])
    [first] = env.captured.followups
    assert first["flags"] & EPHEMERAL
    rest = env.captured.messages
    assert rest and all(m["channel_id"] != env.channel.id for m in rest)
    assert calls["n"] == 2  # one refused follow-up, then DMs only
