"""The Slack adapter end to end: a real slack_bolt App, signed requests, a Web API stand-in,
the real ``LoreBot`` core over the real (embedded) Postgres.

Most tests inject a small answerer that writes a real ``interactions`` row, so the feedback
paths run against the database; ``test_mention_with_the_real_answering_service`` runs the
actual answering service over a few ingested documents.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from adapters.slack import render
from adapters.slack.app import create_app
from adapters.slack.listeners import USAGE
from bot.core import LoreBot
from bot.db.models import Feedback, Interaction
from bot.identity import user_hash
from bot.settings import Settings
from bot.types import Actor, ChannelRef, CommandResult
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
    reaction,
    slack_settings_for,
    slash_body,
    view_submission_body,
)

pytestmark = pytest.mark.db


@pytest.fixture
def stand_in():
    with SlackStandIn() as server:
        yield server


@pytest.fixture
def slack_settings(settings, stand_in) -> Settings:
    return slack_settings_for(settings, stand_in)


@pytest.fixture
def answerer(slack_settings, database) -> RecordingAnswerer:
    return RecordingAnswerer(settings=slack_settings, db=database)


@pytest.fixture
def core(slack_settings, database, answerer) -> LoreBot:
    return LoreBot(settings=slack_settings, db=database, answerer=answerer)


def _app(core: LoreBot, settings: Settings, stand_in: SlackStandIn, **kw: Any):
    client = WebClient(token=BOT_TOKEN, base_url=stand_in.api_url)
    kw.setdefault("process_before_response", True)
    return create_app(core, settings, client=client, **kw)


@pytest.fixture
def app(core, slack_settings, stand_in):
    return _app(core, slack_settings, stand_in)


def _feedback(database) -> list[Feedback]:
    with database.session() as s:
        return list(s.execute(select(Feedback)).scalars())


def _interaction(database, iid: uuid.UUID) -> Interaction:
    with database.session() as s:
        return s.execute(select(Interaction).where(Interaction.id == iid)).scalar_one()


def _all_text(call) -> str:
    blocks = call.params.get("blocks") or []
    return call.params.get("text", "") + "\n" + json.dumps(blocks)


# --------------------------------------------------------------------------- asking


def test_app_uses_slack_api_url_and_bot_token(core, slack_settings, stand_in):
    create_app(core, slack_settings)  # no client: built from settings
    auth = stand_in.of("auth.test")
    assert auth and auth[0].headers.get("Authorization") == f"Bearer {BOT_TOKEN}"


def test_placeholder_token_is_refused(core, settings, stand_in):
    bad = slack_settings_for(settings, stand_in, slack_bot_token="xoxb-REPLACE-ME")
    with pytest.raises(ValueError, match="SLACK_BOT_TOKEN still holds a placeholder"):
        create_app(core, bad)


def test_mention_gets_a_threaded_answer_with_sources(app, stand_in, answerer, core, database):
    resp = dispatch(app, event_body(mention("how do we deploy?", ts="1700000000.000100")))
    assert resp.status == 200
    posts = stand_in.of("chat.postMessage")
    assert len(posts) == 1
    post = posts[0].params
    assert post["channel"] == "C0000001" and post["thread_ts"] == "1700000000.000100"
    sources = next(b for b in post["blocks"] if b.get("block_id") == "lorebot_sources")
    assert "<https://docs.example.org/deploy|Deploy guide>" in sources["text"]["text"]
    assert "updated 3 days ago" in sources["text"]["text"]
    assert post["blocks"][-1]["type"] == "actions"
    # The question reached the core cleaned of the mention, with the thread as context.
    assert answerer.calls[0]["question"] == "how do we deploy?"
    assert answerer.calls[0]["thread"] == "1700000000.000100"
    # :eyes: while answering, removed once the answer is posted.
    methods = [c.method for c in stand_in.calls]
    assert methods.index("reactions.add") < methods.index("chat.postMessage") < methods.index(
        "reactions.remove")
    assert stand_in.of("reactions.add")[0].params["name"] == "eyes"
    # Reactions on the posted message map back to the answer.
    iid = uuid.UUID(post["blocks"][-1]["elements"][0]["value"])
    assert core.interaction_for_reply(platform="slack", reply_ref="1800000000.000001") == iid


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


def test_thread_follow_ups_can_require_a_mention(settings, stand_in, database):
    s = slack_settings_for(settings, stand_in, slack_thread_followups="mention")
    answerer = RecordingAnswerer(settings=s, db=database)
    app = _app(LoreBot(settings=s, db=database, answerer=answerer), s, stand_in)
    root = "1700000004.000100"
    dispatch(app, event_body(mention("how do we deploy?", ts=root)))
    dispatch(app, event_body(message("and rollback?", ts="1700000004.000200", thread_ts=root)))
    assert len(answerer.calls) == 1
    dispatch(app, event_body(mention("and rollback?", ts="1700000004.000300", thread_ts=root)))
    assert len(answerer.calls) == 2 and stand_in.of("chat.postMessage")[-1].params["thread_ts"] == root


def test_slash_command_is_acked_in_the_request_and_answered_after(core, slack_settings, stand_in, answerer):
    # The production setting: ack returned at once, the answer produced on bolt's thread pool.
    app = _app(core, slack_settings, stand_in, process_before_response=False)
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
    app = _app(core, slack_settings, stand_in, process_before_response=False)
    answerer.gate = threading.Event()
    for i in range(12):
        resp = dispatch(app, slash_body(f"question {i}?", response_url=stand_in.response_url()),
                        content_type=FORM)
        assert resp.status == 200 and f"question {i}?" in json.loads(resp.body)["text"]
    assert stand_in.responses() == []
    answerer.gate.set()
    assert stand_in.wait_for(lambda: len(stand_in.responses()) == 12)
    app.lorebot_listeners.close()


def test_share_button_posts_the_ephemeral_answer_to_the_channel(app, stand_in, core):
    response_url = stand_in.response_url()
    dispatch(app, slash_body("how do we deploy?", response_url=response_url), content_type=FORM)
    value = stand_in.responses()[0].params["blocks"][-1]["elements"][2]["value"]
    iid = json.loads(value)["id"]
    dispatch(app, action_body(render.SHARE, value, response_url=response_url), content_type=FORM)
    posts = stand_in.of("chat.postMessage")
    assert len(posts) == 1 and posts[0].params["channel"] == "C0000001"
    assert "Shared by <@UVOTER1>" in json.dumps(posts[0].params["blocks"])
    assert core.interaction_for_reply(platform="slack", reply_ref="1800000000.000001") == uuid.UUID(iid)
    assert stand_in.responses()[-1].params.get("delete_original") is True


def test_share_on_another_replica_answers_again(core, slack_settings, stand_in, answerer):
    asking, sharing = _app(core, slack_settings, stand_in), _app(core, slack_settings, stand_in)
    response_url = stand_in.response_url()
    dispatch(asking, slash_body("how do we deploy?", response_url=response_url), content_type=FORM)
    value = stand_in.responses()[0].params["blocks"][-1]["elements"][2]["value"]
    dispatch(sharing, action_body(render.SHARE, value, response_url=response_url), content_type=FORM)
    assert [c["question"] for c in answerer.calls] == ["how do we deploy?"] * 2
    posts = stand_in.of("chat.postMessage")
    assert len(posts) == 1 and "Deploys run from main" in posts[0].params["text"]


def test_slash_answers_can_be_public(settings, stand_in, database):
    s = slack_settings_for(settings, stand_in, slack_slash_ephemeral=False)
    core = LoreBot(settings=s, db=database, answerer=RecordingAnswerer(settings=s, db=database))
    app = _app(core, s, stand_in)
    dispatch(app, slash_body("how do we deploy?", response_url=stand_in.response_url()), content_type=FORM)
    posts = stand_in.of("chat.postMessage")
    assert len(posts) == 1 and "Asked by <@UASKER1>" in json.dumps(posts[0].params["blocks"])
    assert core.interaction_for_reply(platform="slack", reply_ref="1800000000.000001") is not None


def test_slash_without_text_gets_usage_in_the_ack(app, stand_in, answerer):
    resp = dispatch(app, slash_body("", response_url=stand_in.response_url()), content_type=FORM)
    assert resp.status == 200 and "/lore your question" in resp.body  # ack text is the HTTP body
    assert answerer.calls == []


# --------------------------------------------------------------------------- feedback


def test_reactions_on_the_answer_add_and_remove_votes(app, stand_in, database, slack_settings):
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000005.000100")))
    answer_ts = "1800000000.000001"
    dispatch(app, event_body(reaction("+1", item_ts=answer_ts)))
    rows = _feedback(database)
    assert [(r.value, r.signal) for r in rows] == [(1, "reaction")]
    assert rows[0].user_hash == user_hash(slack_settings, Actor("slack", "UVOTER1"))
    # Changing one's mind replaces the vote (one vote per person per answer).
    dispatch(app, event_body(reaction("thumbsdown", item_ts=answer_ts)))
    assert [r.value for r in _feedback(database)] == [-1]
    # Removing the old 👍 does not remove the 👎; removing the 👎 does.
    dispatch(app, event_body(reaction("+1", item_ts=answer_ts, added=False)))
    assert [r.value for r in _feedback(database)] == [-1]
    dispatch(app, event_body(reaction("thumbsdown", item_ts=answer_ts, added=False)))
    assert _feedback(database) == []
    # Other emoji, and votes on messages that are not answers, record nothing.
    dispatch(app, event_body(reaction("tada", item_ts=answer_ts)))
    dispatch(app, event_body(reaction("+1", item_ts="1700000005.999999")))
    assert _feedback(database) == []


def test_buttons_record_votes_and_the_down_vote_modal_stores_a_comment(app, stand_in, database):
    dispatch(app, event_body(mention("how do we deploy?", ts="1700000006.000100")))
    iid = stand_in.of("chat.postMessage")[0].params["blocks"][-1]["elements"][0]["value"]
    response_url = stand_in.response_url()
    dispatch(app, action_body(render.VOTE_UP, iid, response_url=response_url), content_type=FORM)
    assert [(r.value, r.signal) for r in _feedback(database)] == [(1, "button")]
    assert "Thanks" in stand_in.responses()[-1].params["text"]
    dispatch(app, action_body(render.VOTE_DOWN, iid, response_url=response_url), content_type=FORM)
    assert [r.value for r in _feedback(database)] == [-1]
    modal = stand_in.of("views.open")
    assert modal and modal[0].params["trigger_id"] == "1337.43.trigger"
    assert modal[0].params["view"]["private_metadata"] == iid
    resp = dispatch(app, view_submission_body(iid, "It skipped the staging step."), content_type=FORM)
    assert resp.status == 200
    assert _feedback(database)[0].comment == "It skipped the staging step."


def test_forged_button_value_is_refused_politely(app, stand_in, database):
    response_url = stand_in.response_url()
    resp = dispatch(app, action_body(render.VOTE_UP, str(uuid.uuid4()), response_url=response_url),
                    content_type=FORM)
    assert resp.status == 200
    assert "could not record" in stand_in.responses()[-1].params["text"]
    assert _feedback(database) == []


# --------------------------------------------------------------------------- exactly once, security


def test_a_retried_event_is_answered_once(app, stand_in, answerer):
    body = event_body(mention("how do we deploy?", ts="1700000007.000100"), event_id="EvRETRY1")
    assert dispatch(app, body).status == 200
    assert dispatch(app, body, retry_num=1).status == 200
    assert dispatch(app, body, retry_num=2).status == 200
    assert len(stand_in.of("chat.postMessage")) == 1 and len(answerer.calls) == 1


def test_retry_seen_by_another_replica_is_answered_once(core, slack_settings, stand_in, answerer):
    # Two apps (two replicas) over one database: the claim is in Postgres, not in memory.
    first, second = _app(core, slack_settings, stand_in), _app(core, slack_settings, stand_in)
    body = event_body(mention("how do we deploy?", ts="1700000008.000100"), event_id="EvREPLICA")
    dispatch(first, body)
    dispatch(second, body, retry_num=1)
    assert len(stand_in.of("chat.postMessage")) == 1


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


def test_other_bots_can_be_answered_when_allowed(settings, stand_in, database):
    s = slack_settings_for(settings, stand_in, slack_answer_other_bots=True)
    answerer = RecordingAnswerer(settings=s, db=database)
    app = _app(LoreBot(settings=s, db=database, answerer=answerer), s, stand_in)
    dispatch(app, event_body(message("beep?", ts="1700000012.000200", channel="D0000009",
                                     channel_type="im", user=None, bot_id="BOTHER1",
                                     subtype="bot_message")))
    dispatch(app, event_body(message("mine", ts="1700000012.000300", channel="D0000009",
                                     channel_type="im", user=BOT_USER, bot_id=BOT_ID)))
    assert [c["question"] for c in answerer.calls] == ["beep?"]


# --------------------------------------------------------------------------- failures, bad input


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


# --------------------------------------------------------------------------- admin


@dataclass
class RecordingRouter:
    calls: list[tuple[str, Actor, ChannelRef]] = field(default_factory=list)

    def handle(self, text, *, actor, channel, notify=None) -> CommandResult:
        self.calls.append((text, actor, channel))
        if notify:
            notify("reindex finished")
        return CommandResult(text=f"ran **{text}**", ok=True, private=True)


def test_admin_command_goes_to_the_router_with_platform_admin_flag(slack_settings, database, stand_in):
    router = RecordingRouter()
    slack_settings = slack_settings.model_copy(update={"trust_platform_admins": True})
    core = LoreBot(settings=slack_settings, db=database, router=router)
    app = _app(core, slack_settings, stand_in)
    stand_in.admins.add("UADMIN1")
    for _ in range(2):
        resp = dispatch(app, slash_body("admin sources list", response_url=stand_in.response_url(),
                                        user="UADMIN1"), content_type=FORM)
        assert resp.status == 200
    text, actor, channel = router.calls[0]
    assert text == "sources list" and actor.platform_admin and actor.user_id == "UADMIN1"
    assert channel.id == "C0000001"
    assert len(stand_in.of("users.info")) == 1  # cached
    said = [c.params["text"] for c in stand_in.responses()]
    assert "reindex finished" in said and "ran *sources list*" in said
    dispatch(app, slash_body("admin status", response_url=stand_in.response_url(), user="UPLAIN1"),
             content_type=FORM)
    assert router.calls[-1][1].platform_admin is False


def test_admin_command_through_the_real_router(slack_settings, database, stand_in):
    core = LoreBot(settings=slack_settings, db=database)
    app = _app(core, slack_settings, stand_in)
    dispatch(app, slash_body("admin help", response_url=stand_in.response_url()), content_type=FORM)
    said = stand_in.responses()[-1].params["text"]
    assert "sources" in said and "status" in said


def test_admin_command_router_failure_is_reported(slack_settings, database, stand_in):
    class Broken:
        def handle(self, text, *, actor, channel, notify=None):
            raise ModuleNotFoundError("No module named 'bot.admin.router'", name="bot.admin.router")

    core = LoreBot(settings=slack_settings, db=database, router=Broken())
    app = _app(core, slack_settings, stand_in)
    resp = dispatch(app, slash_body("admin status", response_url=stand_in.response_url()),
                    content_type=FORM)
    assert resp.status == 200
    assert "not available" in stand_in.responses()[-1].params["text"]


# --------------------------------------------------------------------------- the real answering service


@pytest.mark.slow
def test_mention_with_the_real_answering_service(slack_settings, database, stand_in):
    from tests.helpers.kb import load_kb

    load_kb(database, slack_settings)
    from bot.db.scopes import set_scope

    with database.session() as s:
        set_scope(session=s, platform="slack", channel="C0000001", collections=["engineering"])
    slack_settings.style_model_enabled = False
    core = LoreBot(settings=slack_settings, db=database)
    app = _app(core, slack_settings, stand_in)
    dispatch(app, event_body(mention("How do I roll back a bad deploy?", ts="1700000020.000100")))
    post = stand_in.of("chat.postMessage")[0].params
    assert post["thread_ts"] == "1700000020.000100"
    assert "make rollback" in post["text"]
    sources = next(b for b in post["blocks"] if b.get("block_id") == "lorebot_sources")["text"]["text"]
    assert "Deploying the API" in sources and "docs/deploy.md" in sources
    iid = core.interaction_for_reply(platform="slack", reply_ref="1800000000.000001")
    assert iid is not None and _interaction(database, iid).thread == "1700000020.000100"
    # A 👍 on the real answer lands in the feedback table.
    dispatch(app, event_body(reaction("+1", item_ts="1800000000.000001")))
    assert [(r.interaction_id, r.value) for r in _feedback(database)] == [(iid, 1)]
    # Follow-up in the thread, answered with the thread's earlier turn as context.
    dispatch(app, event_body(message("how long does it take?", ts="1700000020.000200",
                                     thread_ts="1700000020.000100")))
    posts = stand_in.of("chat.postMessage")
    assert len(posts) == 2 and posts[1].params["thread_ts"] == "1700000020.000100"
    # A channel scoped to a collection that does not exist is told so, not answered from others.
    with database.session() as s:
        set_scope(session=s, platform="slack", channel="C0000002", collections=["legal"])
    dispatch(app, event_body(mention("How do I roll back a bad deploy?", ts="1700000021.000100",
                                     channel="C0000002")))
    out_of_scope = stand_in.of("chat.postMessage")[2].params
    assert out_of_scope["channel"] == "C0000002" and "legal does not exist" in out_of_scope["text"]
    assert "make rollback" not in out_of_scope["text"] and "docs/deploy.md" not in json.dumps(
        out_of_scope["blocks"])
