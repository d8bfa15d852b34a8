"""Streamed answers, native feedback and the agent pane's prompts end to end: a real slack_bolt
App, signed requests, the Web API stand-in, the real ``LoreBot`` over the embedded Postgres, and
(for streaming) the real answering service talking to a stand-in OpenAI-compatible server."""

from __future__ import annotations

import json
import uuid

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from adapters.slack.app import create_app
from bot.core import LoreBot
from bot.db.models import Feedback, Interaction
from bot.identity import user_hash
from bot.types import Actor
from tests.slack_harness import (
    BOT_TOKEN,
    FORM,
    RecordingAnswerer,
    dispatch,
    event_body,
    feedback_body,
    mention,
    slack_settings_for,
)

pytestmark = pytest.mark.db


def _app(core, stand_in):
    client = WebClient(token=BOT_TOKEN, base_url=stand_in.api_url)
    return create_app(core, core.settings, client=client, process_before_response=True)


def _feedback(database) -> list[Feedback]:
    with database.session() as s:
        return list(s.execute(select(Feedback)).scalars())


def test_native_feedback_buttons_are_one_vote_per_person_and_a_second_press_removes_it(
        settings, database, stand_in):
    s = slack_settings_for(settings, stand_in)
    app = _app(LoreBot(settings=s, db=database, answerer=RecordingAnswerer(settings=s, db=database)),
               stand_in)
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000030.000100")))
    buttons = stand_in.of("chat.postMessage")[0].params["blocks"][-1]["elements"][0]
    up, down = buttons["positive_button"]["value"], buttons["negative_button"]["value"]
    iid = uuid.UUID(up.split(":", 1)[1])
    dispatch(app, feedback_body(up), content_type=FORM)
    dispatch(app, feedback_body(up, user="UOTHER1"), content_type=FORM)
    rows = _feedback(database)
    assert sorted((r.value, r.signal, r.interaction_id) for r in rows) == [(1, "button", iid)] * 2
    assert {r.user_hash for r in rows} == {user_hash(s, Actor("slack", "UVOTER1")),
                                          user_hash(s, Actor("slack", "UOTHER1"))}
    # Changing one's mind replaces the vote; pressing the same button again takes it back.
    dispatch(app, feedback_body(down), content_type=FORM)
    assert sorted(r.value for r in _feedback(database)) == [-1, 1]
    dispatch(app, feedback_body(down), content_type=FORM)
    assert [r.value for r in _feedback(database)] == [1]
    # A forged answer id records nothing.
    dispatch(app, feedback_body(f"up:{uuid.uuid4()}"), content_type=FORM)
    assert len(_feedback(database)) == 1


def test_suggested_prompts_are_the_questions_several_people_asked(settings, database, stand_in):
    s = slack_settings_for(settings, stand_in)
    with database.session() as session:
        for asker, question, abstained in [
            ("U1", "How do I deploy?", False), ("U2", "how do I deploy? ", False),
            ("U1", "Where is my payslip for March?", False),  # one person only: may be private
            ("U1", "What is the moon made of?", True), ("U2", "What is the moon made of?", True),  # gaps
        ]:
            hashed = user_hash(s, Actor("slack", asker))
            session.add(Interaction(platform="slack", channel="D1", asker_hash=hashed,
                                    question=question, answer="a", abstained=abstained))
    core = LoreBot(settings=s, db=database)
    assert core.suggested_prompts() == ["How do I deploy?"]
    dispatch(_app(core, stand_in), event_body({"type": "app_home_opened", "user": "U1", "channel": "DPANE01",
                                              "tab": "messages", "event_ts": "1700000031.1"}))
    [call] = stand_in.of("assistant.threads.setSuggestedPrompts")
    assert [p["message"] for p in call.params["prompts"]] == ["How do I deploy?"]
    assert "thread_ts" not in call.params


@pytest.mark.slow
def test_an_llm_answer_is_streamed_into_the_thread_and_finished_with_sources(settings, database, stand_in):
    from bot.db.scopes import set_scope
    from tests.helpers.kb import load_kb
    from tests.helpers.llm_server import StandInLLM, _deltas

    load_kb(database, settings)
    with database.session() as session:
        set_scope(session=session, platform="slack", channel="C0000001", collections=["engineering"])
    reply = ("To roll back, run `make rollback ENV=prod` [1]. It restores the previous release "
             "and takes about two minutes; check the dashboard afterwards [1]. Unrelated claim [7].")
    with StandInLLM([reply], delta_delay_s=0.05) as llm:
        s = slack_settings_for(settings, stand_in, llm_provider="openai_compatible", llm_api_base=llm.base,
                               llm_model="stand-in", style_model_enabled=False)
        core = LoreBot(settings=s, db=database)
        dispatch(_app(core, stand_in), event_body(mention("How do I roll back a bad deploy?",
                                                          ts="1700000032.000100")))
    [start] = stand_in.of("chat.startStream")
    assert start.params["thread_ts"] == "1700000032.000100" and start.params["recipient_user_id"] == "UASKER1"
    # The draft reached Slack as it was written, coalesced (deltas 50 ms apart, appends >= 0.5 s).
    assert "make rollback" in stand_in.streamed_text()
    assert 1 <= len(stand_in.of("chat.appendStream")) < len(_deltas(reply)) // 3
    assert stand_in.of("chat.stopStream")
    # The checked text (the unsupported [7] dropped) replaced the draft, with sources and feedback.
    [update] = stand_in.of("chat.update")
    assert update.params["ts"] == start.response["ts"]
    assert "make rollback" in update.params["text"] and "[7]" not in update.params["text"]
    blocks = update.params["blocks"]
    sources = next(b for b in blocks if b.get("block_id") == "lorebot_sources")
    assert "docs/deploy.md" in json.dumps(sources) and blocks[-1]["type"] == "context_actions"
    assert not stand_in.of("chat.postMessage")
    iid = core.interaction_for_reply(platform="slack", reply_ref=start.response["ts"])
    assert iid is not None
    with database.session() as session:
        assert "[7]" not in session.get(Interaction, iid).answer
