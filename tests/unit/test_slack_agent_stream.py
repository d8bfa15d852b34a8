"""The agent pane, streamed answers and native feedback through a real bolt App and the Web API
stand-in, on FakeCore (no database, no model)."""

from __future__ import annotations

import json

import pytest
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from adapters.slack import streaming
from adapters.slack.app import create_app
from bot.settings import load_settings
from tests.helpers.fake_core import FakeCore
from tests.slack_harness import (
    BOT_TOKEN,
    FORM,
    SIGNING_SECRET,
    TEAM,
    dispatch,
    event_body,
    feedback_body,
    mention,
    message,
)

ANSWER = "Deploys run from main at 14:00 UTC [1]. Ask in #ops if a deploy is stuck."


def _settings(tmp_path, stand_in, **kw):
    return load_settings(_env_file=None, lorebot_data_dir=tmp_path / "data", slack_bot_token=BOT_TOKEN,
                         slack_signing_secret=SIGNING_SECRET, slack_api_url=stand_in.api_url, **kw)


def _app(core, stand_in):
    client = WebClient(token=BOT_TOKEN, base_url=stand_in.api_url)
    return create_app(core, core.settings, client=client, process_before_response=True)


@pytest.fixture
def core(tmp_path, stand_in) -> FakeCore:
    return FakeCore(settings=_settings(tmp_path, stand_in), answer_text=ANSWER)


@pytest.fixture
def app(core, stand_in):
    return _app(core, stand_in)


def _pieces(text: str, size: int = 7) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def _parsed(blocks):
    """Every block must be one slack_sdk knows, and valid by its own rules."""
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None and type(parsed).__name__ != "Block", block
        parsed.validate_json()


# --------------------------------------------------------------------------- agent pane


def test_messages_tab_gets_suggested_prompts_without_a_thread(app, core, stand_in) -> None:
    core.prompts = ["How do I deploy?", "Who owns billing?"]
    dispatch(app, event_body({"type": "app_home_opened", "user": "UASKER1", "channel": "DPANE01",
                              "tab": "messages", "event_ts": "1700000000.1"}))
    [call] = stand_in.of("assistant.threads.setSuggestedPrompts")
    assert call.params["channel_id"] == "DPANE01" and "thread_ts" not in call.params
    assert [p["message"] for p in call.params["prompts"]] == core.prompts
    assert not stand_in.of("views.publish")  # the Home tab listener left it alone


def test_configured_prompts_win_and_the_legacy_thread_start_carries_its_ts(tmp_path, stand_in) -> None:
    settings = _settings(tmp_path, stand_in, slack_suggested_prompts="Where are the runbooks?|What is X?")
    app = _app(FakeCore(settings=settings, prompts=["ignored"]), stand_in)
    dispatch(app, event_body({"type": "assistant_thread_started", "event_ts": "1700000000.2",
                              "assistant_thread": {"user_id": "UASKER1", "channel_id": "DPANE01",
                                                   "thread_ts": "1700000000.000900", "context": {}}}))
    [call] = stand_in.of("assistant.threads.setSuggestedPrompts")
    assert call.params["thread_ts"] == "1700000000.000900"
    assert [p["message"] for p in call.params["prompts"]] == ["Where are the runbooks?", "What is X?"]


def test_a_dm_gets_a_title_a_status_line_then_the_answer(app, core, stand_in) -> None:
    question = "how do we deploy to production on a friday afternoon?"
    dispatch(app, event_body(message(question, ts="1700000001.000100", channel="DPANE01",
                                     channel_type="im", thread_ts="1700000001.000050")))
    [title] = stand_in.of("assistant.threads.setTitle")
    assert {k: title.params[k] for k in ("channel_id", "thread_ts", "title")} == {
        "channel_id": "DPANE01", "thread_ts": "1700000001.000050", "title": question}
    status, cleared = stand_in.of("assistant.threads.setStatus")
    assert status.params["thread_ts"] == "1700000001.000050" and status.params["loading_messages"]
    assert cleared.params["status"] == "" and cleared.params["thread_ts"] == "1700000001.000050"
    methods = [c.method for c in stand_in.calls]
    set_at, clear_at = [i for i, m in enumerate(methods) if m == "assistant.threads.setStatus"]
    assert set_at < methods.index("chat.postMessage") < clear_at
    # A second question in the same thread keeps the first one's title.
    dispatch(app, event_body(message("and on mondays?", ts="1700000001.000200", channel="DPANE01",
                                     channel_type="im", thread_ts="1700000001.000050")))
    assert len(stand_in.of("assistant.threads.setTitle")) == 1
    assert len(stand_in.of("chat.postMessage")) == 2


def test_channel_answers_set_no_status(app, stand_in) -> None:
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000001.000300")))
    assert not stand_in.of("assistant.threads.setStatus") and not stand_in.of("assistant.threads.setTitle")


# --------------------------------------------------------------------------- streaming


def test_a_streamed_answer_starts_appends_and_stops_with_sources_and_feedback(app, core, stand_in) -> None:
    long = ANSWER + "".join(f" Step {n}: check the pipeline, then the dashboard." for n in range(12))
    core.answer_text, core.stream_pieces = long, _pieces(long)
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000002.000100")))
    [start] = stand_in.of("chat.startStream")
    assert start.params["thread_ts"] == "1700000002.000100" and start.params["channel"] == "C0000001"
    # In a channel Slack needs to know whom the stream is for.
    assert start.params["recipient_team_id"] == TEAM and start.params["recipient_user_id"] == "UASKER1"
    appends = stand_in.of("chat.appendStream")
    assert 1 <= len(appends) < len(core.stream_pieces) - 1  # coalesced, not one call per delta
    assert stand_in.streamed_text() == long
    [stop] = stand_in.of("chat.stopStream")
    blocks = stop.params["blocks"]
    assert any(b.get("block_id") == "lorebot_sources" and "docs.example.org/deploy" in json.dumps(b)
               for b in blocks)
    assert blocks[-1]["type"] == "context_actions"
    _parsed(blocks)
    assert not stand_in.of("chat.postMessage") and not stand_in.of("chat.update")
    assert list(core.replies) == [start.response["ts"]]  # reactions on the stream count as votes


def test_a_retried_delivery_streams_once(app, core, stand_in) -> None:
    core.stream_pieces = _pieces(ANSWER)
    body = event_body(mention("how do we deploy?", ts="1700000002.000150"), event_id="EvStreamOnce")
    dispatch(app, body)
    dispatch(app, body, retry_num=1)
    assert len(stand_in.of("chat.startStream")) == 1 and len(stand_in.of("chat.stopStream")) == 1


def test_a_draft_past_the_stream_limit_is_replaced_by_the_split_answer(app, core, stand_in) -> None:
    long = "word " * (streaming.DRAFT_LIMIT // 5 + 400)
    core.answer_text, core.stream_pieces = long.strip(), _pieces(long, 500)
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000002.000160")))
    assert len(stand_in.streamed_text()) <= streaming.DRAFT_LIMIT
    [update] = stand_in.of("chat.update")
    assert all(len(b["text"]["text"]) <= 3000 for b in update.params["blocks"] if b["type"] == "section")


def test_a_checked_text_that_differs_from_the_draft_replaces_it(app, core, stand_in) -> None:
    core.stream_pieces = _pieces("Deploys run from main at 14:00 UTC [3]. Ask in #ops [7].")
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000002.000200")))
    [start] = stand_in.of("chat.startStream")
    [update] = stand_in.of("chat.update")
    assert update.params["ts"] == start.response["ts"]
    assert ANSWER.split(" [1]")[0] in update.params["text"] and "[7]" not in json.dumps(update.params)
    assert update.params["blocks"][-1]["type"] == "context_actions"
    methods = [c.method for c in stand_in.calls]
    assert methods.index("chat.stopStream") < methods.index("chat.update")


def test_a_failed_stream_ends_as_the_apology_with_its_reference(app, core, stand_in) -> None:
    core.stream_pieces = _pieces(ANSWER)
    core.fail_stream_after = 4
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000002.000300")))
    assert stand_in.of("chat.startStream") and stand_in.of("chat.stopStream")
    [update] = stand_in.of("chat.update")
    said = json.dumps(update.params)
    assert "Sorry, something went wrong" in said and "reference" in said
    assert "docs.example.org" not in said and "Deploys run" not in said  # the half answer is gone
    assert not stand_in.of("chat.postMessage") and core.replies == {}


def test_a_stream_slack_will_not_finish_ends_as_the_apology(app, core, stand_in) -> None:
    core.stream_pieces = _pieces(ANSWER)
    stand_in.failures["chat.stopStream"] = [(200, {"ok": False, "error": "invalid_blocks"}, {})]
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000002.000350")))
    [update] = stand_in.of("chat.update")
    assert update.params["ts"] == stand_in.of("chat.startStream")[0].response["ts"]
    assert "Sorry, something went wrong" in update.params["text"] and core.replies == {}
    assert not stand_in.of("chat.postMessage")


def test_an_extractive_answer_is_posted_at_once_and_never_streams(app, core, stand_in) -> None:
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000002.000400")))
    assert core.asked[0]["streamed_to"]  # the sink was offered...
    assert not stand_in.of("chat.startStream")  # ...but no delta came, so no stream began
    assert len(stand_in.of("chat.postMessage")) == 1


def test_streaming_can_be_turned_off(tmp_path, stand_in) -> None:
    core = FakeCore(settings=_settings(tmp_path, stand_in, slack_stream_answers=False),
                    answer_text=ANSWER, stream_pieces=_pieces(ANSWER))
    dispatch(_app(core, stand_in), event_body(mention("how do we deploy?", ts="1700000002.000500")))
    assert not stand_in.of("chat.startStream") and len(stand_in.of("chat.postMessage")) == 1


def test_a_dm_stream_needs_no_recipients_and_threads_on_the_question(app, core, stand_in) -> None:
    core.stream_pieces = _pieces(ANSWER)
    dispatch(app, event_body(message("how do we deploy?", ts="1700000002.000600", channel="DPANE01",
                                     channel_type="im")))
    [start] = stand_in.of("chat.startStream")
    assert start.params["thread_ts"] == "1700000002.000600"
    assert "recipient_user_id" not in start.params


def test_a_stream_slack_refuses_falls_back_to_posting_the_answer(app, core, stand_in) -> None:
    core.stream_pieces = _pieces(ANSWER)
    stand_in.failures["chat.startStream"] = [(200, {"ok": False, "error": "not_allowed"}, {})]
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000002.000700")))
    [post] = stand_in.of("chat.postMessage")
    assert post.params["blocks"][-1]["type"] == "context_actions"
    assert not stand_in.of("chat.appendStream")


def test_coalescing_sends_on_size_or_interval() -> None:
    class Client:
        def __init__(self) -> None:
            self.sent: list[str] = []

        def chat_stream(self, **kw):
            outer = self

            class S:
                ts = "1.2"

                def append(self, *, markdown_text):
                    outer.sent.append(markdown_text)

            return S()

    now = [0.0]
    client = Client()
    s = streaming.AnswerStream(client, channel="C1", thread_ts="1.1", min_chars=10, interval_s=0.5,
                               clock=lambda: now[0])
    s.sink("a")  # the first delta starts the stream at once
    s.sink("bc")
    s.sink("defghijklm")  # 12 piled up: sent
    s.sink("n")
    now[0] = 0.6
    s.sink("o")  # the interval passed: sent
    assert client.sent == ["a", "bcdefghijklm", "no"] and s.sent == "abcdefghijklmno"


# --------------------------------------------------------------------------- native feedback


def test_native_feedback_presses_are_votes_and_a_second_press_takes_it_back(app, core, stand_in) -> None:
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000003.000100")))
    [iid] = list(core.replies.values())
    buttons = stand_in.of("chat.postMessage")[0].params["blocks"][-1]["elements"][0]
    up, down = buttons["positive_button"]["value"], buttons["negative_button"]["value"]
    assert dispatch(app, feedback_body(up), content_type=FORM).status == 200
    assert [(v.value, v.signal, v.interaction_id) for v in core.live_votes().values()] == [(1, "button", iid)]
    dispatch(app, feedback_body(up), content_type=FORM)  # pressed again: no vote
    assert core.live_votes() == {}
    dispatch(app, feedback_body(down), content_type=FORM)
    dispatch(app, feedback_body(down, user="UOTHER1"), content_type=FORM)
    assert sorted((k[0], v.value) for k, v in core.live_votes().items()) == [
        ("slack:UOTHER1", -1), ("slack:UVOTER1", -1)]
    assert len(stand_in.of("views.open")) == 2  # a 👎 asks what was wrong


def test_forged_native_feedback_values_are_ignored(app, core, stand_in) -> None:
    for value in ("up:not-a-uuid", "sideways:1b4e28ba-2fa1-11d2-883f-0016d3cca427", ""):
        assert dispatch(app, feedback_body(value), content_type=FORM).status == 200
    assert core.votes == []
