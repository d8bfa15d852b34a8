"""The Home tab and the message shortcut through a real slack_bolt App, signed requests, the
Web API stand-in and the real core over the real (embedded) Postgres."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from sqlalchemy import select, update

from adapters.slack.app import create_app
from adapters.slack.home_view import HOME_GAPS, HOME_REINDEX
from adapters.slack.shortcuts import NO_TEXT, SHORTCUT_SHARE
from bot.core import LoreBot
from bot.db import sources as sources_db
from bot.db.models import AuditLog, Interaction, Source
from bot.types import Actor, ChannelRef, CommandResult
from tests.slack_harness import (
    BOT_TOKEN,
    FORM,
    RecordingAnswerer,
    SlackStandIn,
    action_body,
    dispatch,
    event_body,
    message_action_body,
    slack_settings_for,
)

pytestmark = pytest.mark.db

ADMIN, MEMBER = "UADMIN001", "UMEMBER01"


@dataclass
class RecordingRouter:
    calls: list[dict[str, Any]] = field(default_factory=list)

    def handle(self, text: str, *, actor: Actor, channel: ChannelRef, notify: Any = None) -> CommandResult:
        self.calls.append({"text": text, "actor": actor, "channel": channel})
        return CommandResult("reindex of wiki started")


@pytest.fixture
def stand_in():
    with SlackStandIn() as server:
        server.admins.add(ADMIN)
        yield server


def _app(settings, database, stand_in, *, router=None, **overrides):
    # ADMIN is a configured lorebot admin (a workspace admin is one only with
    # TRUST_PLATFORM_ADMINS, which is off by default).
    overrides.setdefault("lorebot_admins", [f"slack:{ADMIN}"])
    s = slack_settings_for(settings, stand_in, **overrides)
    answerer = RecordingAnswerer(settings=s, db=database)
    core = LoreBot(settings=s, db=database, answerer=answerer, router=router)
    app = create_app(core, s, client=WebClient(token=BOT_TOKEN, base_url=stand_in.api_url),
                     process_before_response=True)
    return app, answerer, core


@pytest.fixture
def knowledge(database):
    """One healthy source, one failing, and a question lorebot could not answer this week."""
    with database.session() as s:
        sources_db.create_source(session=s, name="handbook", kind="folder", location="/docs",
                                 collection="default")
        sources_db.create_source(session=s, name="wiki", kind="web", location="https://wiki",
                                 collection="eng")
        s.execute(update(Source).where(Source.name == "handbook").values(
            status="ok", last_success_at=datetime.now(UTC) - timedelta(days=2)))
        s.execute(update(Source).where(Source.name == "wiki").values(
            status="failed", last_error="https://wiki/start: HTTP 503"))
        s.add(Interaction(id=uuid.uuid4(), platform="slack", channel="C1", asker_hash="h",
                          question="How do I rotate the VPN key?", answer="", abstained=True))


def _home_opened(user: str, tab: str = "home") -> str:
    return event_body({"type": "app_home_opened", "user": user, "channel": "D0HOME001", "tab": tab,
                       "event_ts": "1700000500.000100"})


def _published(stand_in, user: str) -> dict:
    calls = [c for c in stand_in.of("views.publish") if c.params["user_id"] == user]
    assert calls, f"no Home tab published for {user}"
    view = calls[-1].params["view"]
    for block in view["blocks"]:  # what Slack received parses as slack_sdk blocks
        assert Block.parse(block) is not None
    return view


def _buttons(view: dict) -> set[tuple[str, str]]:
    found = set()
    for block in view["blocks"]:
        for el in [block.get("accessory") or {}, *block.get("elements", [])]:
            if el.get("type") == "button":
                found.add((el["action_id"], el["value"]))
    return found


# --------------------------------------------------------------------------- Home tab


def test_home_tab_differs_for_admins_and_members(settings, database, stand_in, knowledge):
    app, _, _ = _app(settings, database, stand_in)
    assert dispatch(app, _home_opened(MEMBER)).status == 200
    assert dispatch(app, _home_opened(ADMIN)).status == 200
    member, admin = _published(stand_in, MEMBER), _published(stand_in, ADMIN)
    member_text, admin_text = json.dumps(member), json.dumps(admin, ensure_ascii=False)
    for text in (member_text, admin_text):
        assert "handbook (folder), synced 2 days ago" in text and "wiki (web), never synced" in text
        assert "/lore your question" in text
    assert "For admins" not in member_text and "VPN" not in member_text and _buttons(member) == set()
    assert "For admins" in admin_text and "HTTP 503" in admin_text and "VPN key" in admin_text
    assert "1 questions, 1 not answered" in admin_text
    assert _buttons(admin) == {(HOME_REINDEX, "wiki"), (HOME_GAPS, "gaps --days 7")}


def test_messages_tab_is_not_the_home_tabs_business(settings, database, stand_in):
    app, _, _ = _app(settings, database, stand_in)
    dispatch(app, _home_opened(MEMBER, tab="messages"))
    assert stand_in.of("views.publish") == []


def test_admin_button_runs_the_router_command_and_reports_in_the_dm(settings, database, stand_in,
                                                                    knowledge):
    router = RecordingRouter()
    # trusted: the workspace admin's platform status is looked up and passed on to the router
    app, _, _ = _app(settings, database, stand_in, router=router, trust_platform_admins=True)
    resp = dispatch(app, action_body(HOME_REINDEX, "wiki", response_url="", user=ADMIN, channel=None),
                    content_type=FORM)
    assert resp.status == 200
    (call,) = router.calls
    assert call["text"] == "sources reindex wiki"
    assert call["actor"].user_id == ADMIN and call["actor"].platform_admin
    assert call["channel"].id == "DADMIN001" and call["channel"].is_dm
    (dm,) = stand_in.of("chat.postMessage")
    assert dm.params["channel"] == "DADMIN001" and "reindex of wiki started" in dm.params["text"]
    assert _published(stand_in, ADMIN)  # the Home tab is refreshed afterwards


def test_a_member_pressing_an_admin_button_is_refused_by_the_router(settings, database, stand_in,
                                                                   knowledge):
    app, _, _ = _app(settings, database, stand_in)  # the real command router
    dispatch(app, action_body(HOME_REINDEX, "wiki", response_url="", user=MEMBER, channel=None),
             content_type=FORM)
    (dm,) = stand_in.of("chat.postMessage")
    assert "for lorebot admins only" in dm.params["text"]
    with database.session() as s:
        row = s.execute(select(AuditLog)).scalar_one()
    assert row.command == "sources reindex" and row.allowed is False and row.actor.endswith(MEMBER)


# --------------------------------------------------------------------------- shortcut


def _shortcut(app, stand_in, text: str, *, ts: str = "1700000600.000100", user: str = "UASKER1",
              thread_ts: str | None = None):
    return dispatch(app, message_action_body(text, ts=ts, thread_ts=thread_ts, user=user,
                                             response_url=stand_in.response_url()), content_type=FORM)


def _share_button(call) -> dict:
    for block in call.params["blocks"]:
        for el in block.get("elements", []):
            if el.get("action_id") == SHORTCUT_SHARE:
                return el
    raise AssertionError("no share button")


def test_shortcut_answers_ephemerally_in_the_thread_then_shares(settings, database, stand_in):
    app, answerer, core = _app(settings, database, stand_in)
    assert _shortcut(app, stand_in, "Where is the *deploy* runbook?", ts="1700000601.000100",
                     thread_ts="1700000600.000001").status == 200
    (call,) = answerer.calls
    assert call["question"] == "Where is the *deploy* runbook?"
    # Not recorded under the thread: a private answer must not make the thread lorebot's.
    assert call["thread"] is None
    assert not core.is_bot_thread(platform="slack", channel="C0000001", thread="1700000600.000001")
    assert call["channel"].id == "C0000001"  # single-token mode: today's channel key
    (eph,) = stand_in.of("chat.postEphemeral")
    assert eph.params["channel"] == "C0000001" and eph.params["user"] == "UASKER1"
    assert eph.params["thread_ts"] == "1700000600.000001"
    assert "Deploys run from main" in eph.params["text"]
    assert stand_in.of("chat.postMessage") == []  # nobody else sees it yet
    share = _share_button(eph)
    value = json.loads(share["value"])
    assert len(share["value"]) <= 2000 and value["t"] == "1700000600.000001"
    response_url = stand_in.response_url()
    dispatch(app, action_body(SHORTCUT_SHARE, share["value"], response_url=response_url, user="UASKER1"),
             content_type=FORM)
    (post,) = stand_in.of("chat.postMessage")
    assert post.params["thread_ts"] == "1700000600.000001" and "Shared by <@UASKER1>" in json.dumps(
        post.params["blocks"])
    assert len(answerer.calls) == 1  # shared from memory, not answered again
    iid = uuid.UUID(value["id"])
    assert core.interaction_for_reply(platform="slack", reply_ref=post.response["ts"]) == iid
    assert any(r.params.get("delete_original") in (True, "true") for r in stand_in.responses())


def test_share_on_another_replica_answers_again(settings, database, stand_in):
    app, _, _ = _app(settings, database, stand_in)
    _shortcut(app, stand_in, "How do we deploy?")
    value = _share_button(stand_in.of("chat.postEphemeral")[0])["value"]
    other, answerer, _ = _app(settings, database, stand_in)  # no memory of the answer
    dispatch(other, action_body(SHORTCUT_SHARE, value, response_url=stand_in.response_url()),
             content_type=FORM)
    assert [c["question"] for c in answerer.calls] == ["How do we deploy?"]
    assert len(stand_in.of("chat.postMessage")) == 1


def test_shortcut_on_a_message_without_text_says_so(settings, database, stand_in):
    app, answerer, _ = _app(settings, database, stand_in)
    _shortcut(app, stand_in, "   ")
    assert answerer.calls == []
    assert NO_TEXT in stand_in.of("chat.postEphemeral")[0].params["text"]


def test_shortcut_failure_apologises_with_a_reference(settings, database, stand_in):
    app, answerer, _ = _app(settings, database, stand_in)
    answerer.error = RuntimeError("model down")
    _shortcut(app, stand_in, "How do we deploy?")
    (eph,) = stand_in.of("chat.postEphemeral")
    assert "Sorry, something went wrong" in eph.params["text"] and "`" in eph.params["text"]


def test_shortcut_is_rate_limited_per_user_with_a_friendly_message(settings, database, stand_in):
    app, answerer, _ = _app(settings, database, stand_in, user_questions_per_minute=1)
    _shortcut(app, stand_in, "first question")
    _shortcut(app, stand_in, "second question")
    _shortcut(app, stand_in, "a colleague's question", user="UOTHER01")
    assert [c["question"] for c in answerer.calls] == ["first question", "a colleague's question"]
    refusal = stand_in.of("chat.postEphemeral")[1]
    assert refusal.params["user"] == "UASKER1" and "try again in" in refusal.params["text"]
