"""The Slack adapter end to end: a real slack_bolt App, signed requests, a Web API stand-in,
the real ``LoreBot`` core over the real (embedded) Postgres.

Most tests inject a small answerer that writes a real ``interactions`` row, so the feedback
paths run against the database; ``test_mention_with_the_real_answering_service`` runs the
actual answering service over a few ingested documents.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from adapters.slack import render
from adapters.slack.app import create_app
from bot.core import LoreBot
from bot.db.models import Feedback, Interaction
from bot.identity import user_hash
from bot.settings import Settings
from bot.types import Actor, ChannelRef, CommandResult
from tests.slack_harness import (
    BOT_TOKEN,
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
    assert post["blocks"][-1]["type"] == "context_actions"  # Slack's native feedback buttons
    # The question reached the core cleaned of the mention, with the thread as context.
    assert answerer.calls[0]["question"] == "how do we deploy?"
    assert answerer.calls[0]["thread"] == "1700000000.000100"
    # :eyes: while answering, removed once the answer is posted.
    methods = [c.method for c in stand_in.calls]
    assert methods.index("reactions.add") < methods.index("chat.postMessage") < methods.index(
        "reactions.remove")
    assert stand_in.of("reactions.add")[0].params["name"] == "eyes"
    # Reactions on the posted message map back to the answer.
    iid = uuid.UUID(post["blocks"][-1]["elements"][0]["positive_button"]["value"].split(":", 1)[1])
    assert core.interaction_for_reply(platform="slack", reply_ref="1800000000.000001") == iid


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


def test_slash_answers_can_be_public(settings, stand_in, database):
    s = slack_settings_for(settings, stand_in, slack_slash_ephemeral=False)
    core = LoreBot(settings=s, db=database, answerer=RecordingAnswerer(settings=s, db=database))
    app = _app(core, s, stand_in)
    dispatch(app, slash_body("how do we deploy?", response_url=stand_in.response_url()), content_type=FORM)
    posts = stand_in.of("chat.postMessage")
    assert len(posts) == 1 and "Asked by <@UASKER1>" in json.dumps(posts[0].params["blocks"])
    assert core.interaction_for_reply(platform="slack", reply_ref="1800000000.000001") is not None


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


def test_buttons_record_votes_and_the_down_vote_modal_stores_a_comment(slack_settings, stand_in,
                                                                       database):
    # The classic buttons (SLACK_NATIVE_FEEDBACK=false, and answers posted before it existed).
    classic = slack_settings.model_copy(update={"slack_native_feedback": False})
    app = _app(LoreBot(settings=classic, db=database, answerer=RecordingAnswerer(classic, database)),
               classic, stand_in)
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


def test_retry_seen_by_another_replica_is_answered_once(core, slack_settings, stand_in, answerer):
    # Two apps (two replicas) over one database: the claim is in Postgres, not in memory.
    first, second = _app(core, slack_settings, stand_in), _app(core, slack_settings, stand_in)
    body = event_body(mention("how do we deploy?", ts="1700000008.000100"), event_id="EvREPLICA")
    dispatch(first, body)
    dispatch(second, body, retry_num=1)
    assert len(stand_in.of("chat.postMessage")) == 1


# --------------------------------------------------------------------------- failures, bad input


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
