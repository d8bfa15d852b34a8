"""The one inbound policy (bot/inbound.py + LoreBot.on_message/on_reaction): when lorebot
answers, and which emoji are votes, the same for every platform. No database: the core's two
database-backed checks are exercised through FakeCore's in-memory ones and in tests/test_core_feedback.py."""

from __future__ import annotations

import uuid

import pytest

from bot import inbound
from bot.settings import Settings, load_settings
from bot.types import Actor, ChannelRef, IncomingMessage, Reaction, Reply
from tests.helpers.fake_core import FakeCore


@pytest.fixture
def settings(tmp_path) -> Settings:
    return load_settings(_env_file=None, lorebot_data_dir=tmp_path)


def _msg(platform: str = "slack", *, text: str = "how do we deploy?", dm: bool = False,
         thread: str | None = None, mentioned: bool = False, mention_event: bool = False,
         from_bot: bool = False, event_id: str | None = "Ev1", ts: str = "100.1") -> IncomingMessage:
    return IncomingMessage(platform=platform, channel=ChannelRef(platform, "D1" if dm else "C1", dm),
                           user=Actor(platform, "U1"), text=text, message_id=ts, thread_id=thread,
                           mentioned=mentioned, from_bot=from_bot, event_id=event_id,
                           mention_event=mention_event)


def test_acknowledgements_are_not_questions() -> None:
    for text in ("thanks!", "Thank you :pray:", "ok 👍", ":+1:", "", "LGTM."):
        assert inbound.is_acknowledgement(text), text
    for text in ("thanks, and how do I roll back?", "ok but why?", "what about staging"):
        assert not inbound.is_acknowledgement(text), text


def test_slack_vote_emoji_come_from_settings(settings) -> None:
    up, down = ["+1", "thumbsup"], ["-1"]
    assert inbound.vote_for_emoji("thumbsup", up=up, down=down) == 1
    assert inbound.vote_for_emoji("-1", up=up, down=down) == -1
    assert inbound.vote_for_emoji("eyes", up=up, down=down) is None
    assert inbound.vote_for_emoji("+1::skin-tone-4", up=up, down=down) == 1
    custom = settings.model_copy(update={"slack_upvote_emoji": ["rocket"]})
    assert inbound.vote_for_emoji("rocket", up=custom.slack_upvote_emoji, down=[]) == 1


@pytest.mark.parametrize(("emoji", "value"), [("👍", 1), ("👍🏽", 1), ("✅", 1), ("👎", -1),
                                              ("👎🏿", -1), ("🎉", None), ("thumbsup", None)])
def test_discord_vote_emoji_defaults(settings, emoji: str, value: int | None) -> None:
    up, down = inbound.vote_emoji(settings, "discord")
    assert inbound.vote_for_emoji(emoji, up=up, down=down) == value


def test_discord_vote_emoji_are_read_from_settings_not_hard_coded(tmp_path) -> None:
    s = load_settings(_env_file=None, lorebot_data_dir=tmp_path, discord_upvote_emoji="🚀,🎉",
                      discord_downvote_emoji="💩")
    core = FakeCore(settings=s)
    core.attach_reply(interaction_id=uuid.uuid4(), reply_ref="m1")
    user = Actor("discord", "U2")
    react = lambda e: Reaction("discord", ChannelRef("discord", "C1"), user, "m1", e, True)  # noqa: E731
    assert not core.on_reaction(react("👍"))  # no longer a vote here
    assert core.on_reaction(react("🎉")) and core.votes[-1].value == 1
    assert core.on_reaction(react("💩")) and core.votes[-1].value == -1


def test_dm_mention_and_channel_rules(settings) -> None:
    rules = inbound.rules_for(settings, "slack")
    # DM: answered from the message event; Slack's app_mention copy of it is skipped.
    assert inbound.decide(_msg(dm=True), rules).reply == Reply("answer", "how do we deploy?")
    assert inbound.decide(_msg(dm=True, mentioned=True, mention_event=True), rules) is None
    # Channel mention: app_mention answers in a new thread on the message; the message copy is skipped.
    d = inbound.decide(_msg(mentioned=True, mention_event=True), rules)
    assert d.reply == Reply("answer", "how do we deploy?", thread="100.1", new_thread=True)
    assert inbound.decide(_msg(mentioned=True), rules) is None
    # A mention inside a thread answers in that thread.
    d = inbound.decide(_msg(mentioned=True, mention_event=True, thread="90.0"), rules)
    assert d.reply.thread == "90.0" and not d.reply.new_thread
    # Plain channel chatter is not for lorebot; other bots are not answered by default.
    assert inbound.decide(_msg(), rules) is None
    assert inbound.decide(_msg(dm=True, from_bot=True), rules) is None
    bots = inbound.rules_for(settings.model_copy(update={"slack_answer_other_bots": True}), "slack")
    assert inbound.decide(_msg(dm=True, from_bot=True), bots) is not None
    # Discord has no separate mention event: the mention message itself is answered.
    d = inbound.decide(_msg("discord", mentioned=True), inbound.rules_for(settings, "discord"))
    assert d.reply.new_thread and d.reply.thread == "100.1"


def test_an_empty_mention_gets_the_usage_line(settings) -> None:
    d = inbound.decide(_msg("discord", text="", mentioned=True), inbound.rules_for(settings, "discord"))
    assert d.reply.kind == "usage"


@pytest.mark.parametrize("platform", ["slack", "discord"])
def test_follow_ups_need_a_bot_thread_and_skip_thanks_on_every_platform(settings, platform) -> None:
    core = FakeCore(settings=settings)
    follow = _msg(platform, text="and on Fridays?", thread="90.0", event_id="E1")
    assert core.on_message(follow) is None  # lorebot never answered in that thread
    core.bot_threads.add((platform, "C1", "90.0"))
    assert core.on_message(follow) == Reply("answer", "and on Fridays?", thread="90.0")
    assert core.on_message(follow) is None  # the same delivery again: answered once
    assert core.on_message(_msg(platform, text="thanks!", thread="90.0", event_id="E2")) is None


def test_settings_turn_follow_ups_and_discord_surfaces_off(settings) -> None:
    off = settings.model_copy(update={"slack_thread_followups": "mention",
                                      "discord_answer_mentions": False, "discord_answer_dms": False})
    core = FakeCore(settings=off)
    core.bot_threads |= {("slack", "C1", "90.0"), ("discord", "C1", "90.0")}
    assert core.on_message(_msg("slack", thread="90.0", event_id="E1")) is None
    assert core.on_message(_msg("discord", thread="90.0", event_id="E2")) is None
    assert core.on_message(_msg("discord", mentioned=True, event_id="E3")) is None
    assert core.on_message(_msg("discord", dm=True, event_id="E4")) is None
