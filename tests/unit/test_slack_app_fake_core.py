"""The Slack adapter through a real bolt App and a stand-in Web API, on FakeCore: signing,
acks, threading, retries, rendering and failures, with no database and no model. (Moved from
tests/test_slack_app.py, which keeps what needs the real core and Postgres.)"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import pytest
from slack_sdk import WebClient

from adapters.slack import render
from adapters.slack.app import create_app
from adapters.slack.listeners import USAGE, SlackListeners
from bot.settings import Settings, load_settings
from tests.helpers.fake_core import FakeCore
from tests.slack_harness import (
    BOT_ID,
    BOT_TOKEN,
    BOT_USER,
    FORM,
    RecordingAnswerer,
    SlackStandIn,
    action_body,
    dispatch,
    event_body,
    mention,
    message,
    slack_settings_for,
    slash_body,
)


@pytest.fixture
def settings(tmp_path) -> Settings:
    """No database: overrides the root conftest's Postgres-backed settings."""
    return load_settings(_env_file=None, lorebot_data_dir=tmp_path / "data")


@pytest.fixture
def slack_settings(settings, stand_in) -> Settings:
    return slack_settings_for(settings, stand_in)


@pytest.fixture
def answerer(slack_settings) -> RecordingAnswerer:
    return RecordingAnswerer(settings=slack_settings, db=None)


@pytest.fixture
def core(slack_settings, answerer) -> FakeCore:
    return FakeCore(settings=slack_settings, answerer=answerer)


def _app(core: FakeCore, settings: Settings, stand_in: SlackStandIn, **kw: Any):
    client = WebClient(token=BOT_TOKEN, base_url=stand_in.api_url)
    kw.setdefault("process_before_response", True)
    return create_app(core, settings, client=client, **kw)


@pytest.fixture
def app(core, slack_settings, stand_in):
    return _app(core, slack_settings, stand_in)


def _all_text(call) -> str:
    blocks = call.params.get("blocks") or []
    return call.params.get("text", "") + "\n" + json.dumps(blocks)


def test_app_uses_slack_api_url_and_bot_token(core, slack_settings, stand_in):
    create_app(core, slack_settings)  # no client: built from settings
    auth = stand_in.of("auth.test")
    assert auth and auth[0].headers.get("Authorization") == f"Bearer {BOT_TOKEN}"


def test_placeholder_token_is_refused(core, settings, stand_in):
    bad = slack_settings_for(settings, stand_in, slack_bot_token="xoxb-REPLACE-ME")
    with pytest.raises(ValueError, match="SLACK_BOT_TOKEN still holds a placeholder"):
        create_app(core, bad)


def test_direct_message_is_answered_in_the_dm(app, stand_in, answerer):
    dispatch(app, event_body(message("what is E4127?", ts="1700000001.000100", channel="D0000009",
                                     channel_type="im")))
    posts = stand_in.of("chat.postMessage")
    assert len(posts) == 1 and posts[0].params["channel"] == "D0000009"
    assert "thread_ts" not in posts[0].params
    assert answerer.calls[0]["channel"].is_dm


def test_thread_follow_up_is_answered_with_thread_context(app, stand_in, answerer):
    root = "1700000002.000100"
    dispatch(app, event_body(mention("how do we deploy?", ts=root)))
    dispatch(app, event_body(message("and how do I roll back?", ts="1700000002.000200", thread_ts=root)))
    posts = stand_in.of("chat.postMessage")
    assert len(posts) == 2 and posts[1].params["thread_ts"] == root
    assert answerer.calls[1] == {**answerer.calls[1], "question": "and how do I roll back?",
                                 "thread": root}
    # "thanks!" under the answer is not a question.
    dispatch(app, event_body(message("thanks! :pray:", ts="1700000002.000300", thread_ts=root)))
    assert len(stand_in.of("chat.postMessage")) == 2
    # A thread lorebot never answered in is people talking: left alone.
    dispatch(app, event_body(message("lunch?", ts="1700000003.000200", thread_ts="1700000003.000100")))
    # A top-level channel message without a mention is not for lorebot either.
    dispatch(app, event_body(message("deploy is broken", ts="1700000003.000300")))
    assert len(stand_in.of("chat.postMessage")) == 2 and len(answerer.calls) == 2


def test_slash_command_is_acked_in_the_request_and_answered_after(core, slack_settings, stand_in, answerer):
    # The production setting: ack returned at once, the answer produced on bolt's thread pool.
    listeners = SlackListeners(core, slack_settings)
    app = _app(core, slack_settings, stand_in, process_before_response=False, listeners=listeners)
    answerer.gate = threading.Event()
    response_url = stand_in.response_url()
    started = time.monotonic()
    resp = dispatch(app, slash_body("how do we deploy?", response_url=response_url), content_type=FORM)
    elapsed = time.monotonic() - started
    assert resp.status == 200 and elapsed < 2.5
    ack = json.loads(resp.body)
    assert ack["response_type"] == "ephemeral" and "how do we deploy?" in ack["text"]
    assert stand_in.responses() == []  # the answer is still being prepared
    answerer.gate.set()
    assert stand_in.wait_for(lambda: len(stand_in.responses()) == 1)
    answer = stand_in.responses()[0].params
    assert answer["response_type"] == "ephemeral"
    assert "Deploys run from main" in json.dumps(answer["blocks"])
    buttons = answer["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == [render.VOTE_UP, render.VOTE_DOWN, render.SHARE]


def test_acks_never_wait_for_answers_in_progress(core, slack_settings, stand_in, answerer):
    # More commands than bolt has listener threads, all answers blocked: every one is still acked.
    listeners = SlackListeners(core, slack_settings)
    app = _app(core, slack_settings, stand_in, process_before_response=False, listeners=listeners)
    answerer.gate = threading.Event()
    for i in range(12):
        resp = dispatch(app, slash_body(f"question {i}?", response_url=stand_in.response_url()),
                        content_type=FORM)
        assert resp.status == 200 and f"question {i}?" in json.loads(resp.body)["text"]
    assert stand_in.responses() == []
    answerer.gate.set()
    assert stand_in.wait_for(lambda: len(stand_in.responses()) == 12)
    listeners.close()


def test_share_on_another_replica_answers_again(core, slack_settings, stand_in, answerer):
    asking, sharing = _app(core, slack_settings, stand_in), _app(core, slack_settings, stand_in)
    response_url = stand_in.response_url()
    dispatch(asking, slash_body("how do we deploy?", response_url=response_url), content_type=FORM)
    value = stand_in.responses()[0].params["blocks"][-1]["elements"][2]["value"]
    dispatch(sharing, action_body(render.SHARE, value, response_url=response_url), content_type=FORM)
    assert [c["question"] for c in answerer.calls] == ["how do we deploy?"] * 2
    posts = stand_in.of("chat.postMessage")
    assert len(posts) == 1 and "Deploys run from main" in posts[0].params["text"]


def test_slash_without_text_gets_usage_in_the_ack(app, stand_in, answerer):
    resp = dispatch(app, slash_body("", response_url=stand_in.response_url()), content_type=FORM)
    assert resp.status == 200 and "/lore your question" in resp.body  # ack text is the HTTP body
    assert answerer.calls == []


def test_a_retried_event_is_answered_once(app, stand_in, answerer):
    body = event_body(mention("how do we deploy?", ts="1700000007.000100"), event_id="EvRETRY1")
    assert dispatch(app, body).status == 200
    assert dispatch(app, body, retry_num=1).status == 200
    assert dispatch(app, body, retry_num=2).status == 200
    assert len(stand_in.of("chat.postMessage")) == 1 and len(answerer.calls) == 1


def test_bad_signature_is_refused(app, stand_in, answerer):
    body = event_body(mention("how do we deploy?", ts="1700000009.000100"))
    resp = dispatch(app, body, secret="not-the-secret")
    assert resp.status == 401
    assert answerer.calls == [] and stand_in.of("chat.postMessage") == []


def test_stale_timestamp_is_refused(app, stand_in, answerer):
    body = event_body(mention("how do we deploy?", ts="1700000010.000100"))
    resp = dispatch(app, body, timestamp=int(time.time()) - 600)
    assert resp.status == 401 and answerer.calls == []


def test_own_and_other_bot_messages_are_ignored(app, stand_in, answerer):
    dispatch(app, event_body(message("an answer", ts="1700000011.000100", channel="D0000009",
                                     channel_type="im", user=BOT_USER, bot_id=BOT_ID)))
    dispatch(app, event_body(message("beep", ts="1700000011.000200", channel="D0000009",
                                     channel_type="im", user=None, bot_id="BOTHER1",
                                     subtype="bot_message")))
    assert answerer.calls == [] and stand_in.of("chat.postMessage") == []


def test_other_bots_can_be_answered_when_allowed(settings, stand_in):
    s = slack_settings_for(settings, stand_in, slack_answer_other_bots=True)
    answerer = RecordingAnswerer(settings=s, db=None)
    app = _app(FakeCore(settings=s, answerer=answerer), s, stand_in)
    dispatch(app, event_body(message("beep?", ts="1700000012.000200", channel="D0000009",
                                     channel_type="im", user=None, bot_id="BOTHER1",
                                     subtype="bot_message")))
    dispatch(app, event_body(message("mine", ts="1700000012.000300", channel="D0000009",
                                     channel_type="im", user=BOT_USER, bot_id=BOT_ID)))
    assert [c["question"] for c in answerer.calls] == ["beep?"]


def test_answering_error_gets_an_apology_with_a_reference(app, stand_in, answerer, caplog):
    answerer.error = RuntimeError("database on fire")
    with caplog.at_level("ERROR"):
        resp = dispatch(app, event_body(mention("how do we deploy?", ts="1700000013.000100")))
    assert resp.status == 200
    posts = stand_in.of("chat.postMessage")
    assert len(posts) == 1 and posts[0].params["thread_ts"] == "1700000013.000100"
    text = posts[0].params["text"]
    assert "Sorry" in text
    ref = re.search(r"reference: `([0-9a-f]{8})`", text).group(1)
    assert any(getattr(r, "reference", None) == ref for r in caplog.records)
    assert "database on fire" not in text
    assert len(stand_in.of("reactions.remove")) == 1  # :eyes: not left behind


def test_refused_post_still_gets_an_apology(app, stand_in):
    stand_in.failures["chat.postMessage"] = [(200, {"ok": False, "error": "invalid_blocks"}, {})]
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000013.000200")))
    posts = stand_in.of("chat.postMessage")
    assert len(posts) == 2 and "reference" in posts[1].params["text"]
    assert posts[1].params["thread_ts"] == "1700000013.000200"


def test_socket_mode_app_needs_no_signature(core, slack_settings, stand_in, answerer):
    from slack_bolt import BoltRequest

    from adapters.slack.socket import socket_handler

    s = slack_settings_for(slack_settings, stand_in, slack_signing_secret=None,
                           slack_app_token="xapp-1-A111-222-abcdef")
    app = _app(core, s, stand_in, socket_mode=True)
    # Socket Mode delivers the envelope's payload with no HTTP signature at all.
    body = json.loads(event_body(mention("how do we deploy?", ts="1700000017.000100")))
    resp = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
    assert resp.status == 200 and len(stand_in.of("chat.postMessage")) == 1
    handler = socket_handler(app, s)
    assert handler.app is app and handler.client.app_token == "xapp-1-A111-222-abcdef"
    handler.close()
    bad = slack_settings_for(slack_settings, stand_in, slack_app_token="xapp-REPLACE-ME")
    with pytest.raises(ValueError, match="SLACK_APP_TOKEN"):
        socket_handler(app, bad)


def test_slash_answering_error_gets_an_apology(app, stand_in, answerer):
    answerer.error = RuntimeError("boom")
    dispatch(app, slash_body("how?", response_url=stand_in.response_url()), content_type=FORM)
    assert "reference" in stand_in.responses()[-1].params["text"]


def test_mention_without_a_question_gets_a_usage_hint(app, stand_in, answerer):
    dispatch(app, event_body(mention("", ts="1700000014.000100")))
    posts = stand_in.of("chat.postMessage")
    assert len(posts) == 1 and answerer.calls == []
    assert posts[0].params["thread_ts"] == "1700000014.000100"
    assert render.to_mrkdwn(USAGE)[:40] in posts[0].params["text"] or "/lore" in posts[0].params["text"]


def test_huge_message_is_truncated_with_a_note(app, stand_in, answerer):
    dispatch(app, event_body(mention("why " * 10_000, ts="1700000015.000100")))
    assert len(answerer.calls[0]["question"]) <= 4000
    assert "first 4,000 characters" in _all_text(stand_in.of("chat.postMessage")[0])


def test_unknown_payload_type_is_refused_not_crashed(app, stand_in):
    body = json.dumps({"type": "something_new", "team_id": "T0000001"})
    resp = dispatch(app, body)
    assert resp.status == 404 and stand_in.of("chat.postMessage") == []
    unknown_event = event_body({"type": "emoji_changed", "subtype": "add", "name": "x"})
    assert dispatch(app, unknown_event).status in (200, 404)


def test_twelve_thousand_character_answer_is_split_through_the_app(app, stand_in, answerer):
    answerer.text = "\n\n".join(f"Step {i}: " + "run the deploy script and watch the logs [1]. " * 20
                                for i in range(13))
    assert len(answerer.text) >= 12_000
    dispatch(app, event_body(mention("long please", ts="1700000016.000100")))
    posts = stand_in.of("chat.postMessage")
    assert len(posts) == 1
    blocks = posts[0].params["blocks"]
    sections = [b["text"]["text"] for b in blocks
                if b["type"] == "section" and b.get("block_id") != "lorebot_sources"]
    assert len(sections) >= 4 and all(len(t) <= 3000 for t in sections) and len(blocks) <= 50
    assert "\n\n".join(sections).count("[1]") == answerer.text.count("[1]")
