"""The Slack adapter through a real bolt App and a stand-in Web API on FakeCore: translation,
rendering and wiring, with no database and no model."""

from __future__ import annotations

import json

import pytest
from slack_sdk import WebClient

from adapters.slack.app import create_app
from bot.settings import Settings, load_settings
from tests.helpers.fake_core import FakeCore
from tests.slack_harness import (
    BOT_TOKEN,
    FORM,
    SIGNING_SECRET,
    dispatch,
    event_body,
    mention,
    message,
    reaction,
    slash_body,
)


@pytest.fixture
def settings(tmp_path, stand_in) -> Settings:
    return load_settings(_env_file=None, lorebot_data_dir=tmp_path / "data",
                         slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                         slack_api_url=stand_in.api_url)


@pytest.fixture
def core(settings) -> FakeCore:
    return FakeCore(settings=settings)


@pytest.fixture
def app(core, settings, stand_in):
    client = WebClient(token=BOT_TOKEN, base_url=stand_in.api_url)
    return create_app(core, settings, client=client, process_before_response=True)


def test_mention_is_answered_once_in_its_thread_and_attached(app, core, stand_in) -> None:
    body = event_body(mention("how do we deploy?", ts="1700000000.000100"), event_id="EvOnce")
    assert dispatch(app, body).status == 200
    assert dispatch(app, body, retry_num=1).status == 200  # Slack's retry of the same event
    [post] = stand_in.of("chat.postMessage")
    assert post.params["thread_ts"] == "1700000000.000100"
    [asked] = core.asked
    assert asked["question"] == "how do we deploy?" and asked["thread"] == "1700000000.000100"
    assert asked["asker"].user_id == "UASKER1" and asked["channel"].id == "C0000001"
    assert len(core.replies) == 1  # the posted message is attached to the answer


def test_the_message_copy_of_a_mention_is_not_answered_twice(app, core, stand_in) -> None:
    ts = "1700000000.000200"
    dispatch(app, event_body(mention("how do we deploy?", ts=ts)))
    dispatch(app, event_body(message("<@UBOT0001> how do we deploy?", ts=ts)))
    assert len(core.asked) == 1 and len(stand_in.of("chat.postMessage")) == 1


def test_follow_ups_in_an_answered_thread_but_not_thanks(app, core, stand_in) -> None:
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000000.000300")))
    dispatch(app, event_body(message("thanks!", ts="1700000000.000400",
                                     thread_ts="1700000000.000300")))
    dispatch(app, event_body(message("and on Fridays?", ts="1700000000.000500",
                                     thread_ts="1700000000.000300")))
    dispatch(app, event_body(message("unrelated", ts="1700000000.000600",
                                     thread_ts="1600000000.000100")))
    assert [a["question"] for a in core.asked] == ["how do we deploy?", "and on Fridays?"]


def test_reactions_on_the_answer_are_votes_per_settings(app, core, stand_in) -> None:
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000000.000700")))
    [ts] = list(core.replies)
    dispatch(app, event_body(reaction("+1::skin-tone-2", item_ts=ts)))
    dispatch(app, event_body(reaction("eyes", item_ts=ts)))
    dispatch(app, event_body(reaction("thumbsdown", item_ts=ts)))
    assert [(v.value, v.signal) for v in core.votes] == [(1, "reaction"), (-1, "reaction")]


def test_empty_mention_gets_the_usage_line(app, core, stand_in) -> None:
    dispatch(app, event_body(mention("", ts="1700000000.000800")))
    [post] = stand_in.of("chat.postMessage")
    assert "mention me" in json.dumps(post.params) and core.asked == []


def test_admin_slash_command_goes_to_the_core(app, core, stand_in) -> None:
    resp = dispatch(app, slash_body("admin sources list", response_url=stand_in.response_url()),
                    content_type=FORM)
    assert resp.status == 200
    assert stand_in.wait_for(lambda: len(stand_in.responses()) == 1)
    assert core.commands_run[0][0] == "sources list"
    assert "ran sources list" in json.dumps(stand_in.responses()[0].params)
