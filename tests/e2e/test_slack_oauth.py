"""OAuth end to end: two workspaces install lorebot through ``/slack/install`` and
``/slack/oauth_redirect`` (bolt's flow, the state and installation stores in the test's real
Postgres), the stand-in answers ``oauth.v2.access``; each workspace's events are then answered
with its own token, and uninstalling removes that workspace's tokens only."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import func, select, text
from starlette.applications import Starlette
from starlette.testclient import TestClient

from adapters.slack.app import create_app
from adapters.slack.http import EVENTS_PATH, slack_routes
from adapters.slack.installation import INSTALL_PATH, REDIRECT_PATH, oauth_enabled
from adapters.slack.oauth import oauth_routes
from bot.core import LoreBot
from bot.db.models import Interaction
from bot.settings import ConfigError
from tests.slack_harness import (
    FORM,
    JSON,
    RecordingAnswerer,
    SlackStandIn,
    Workspace,
    event_body,
    mention,
    message_action_body,
    signed_headers,
    slack_settings_for,
)

pytestmark = pytest.mark.db

CLIENT_ID, CLIENT_SECRET = "1111.2222", "client-secret-abc123"
COOKIE = "slack-app-oauth-state"
A = Workspace(team_id="TAAAA0001", token="xoxb-team-a-token", bot_user_id="UBOTA0001", bot_id="BBOTA0001",
              name="Alpha")
B = Workspace(team_id="TBBBB0002", token="xoxb-team-b-token", bot_user_id="UBOTB0002", bot_id="BBOTB0002",
              name="Beta")


@pytest.fixture
def stand_in():
    with SlackStandIn() as server:
        server.client_credentials = (CLIENT_ID, CLIENT_SECRET)
        A.revoked = B.revoked = False
        yield server


@pytest.fixture
def oauth(settings, database, stand_in):
    s = slack_settings_for(settings, stand_in, slack_bot_token=None, slack_client_id=CLIENT_ID,
                           slack_client_secret=CLIENT_SECRET, slack_state_secret="state-signing-key-42")
    answerer = RecordingAnswerer(settings=s, db=database)
    core = LoreBot(settings=s, db=database, answerer=answerer)
    app = create_app(core, s, process_before_response=True)  # the client is built from settings
    with TestClient(Starlette(routes=slack_routes(app) + oauth_routes(app))) as client:
        yield client, answerer, app


def _install(client: TestClient, stand_in: SlackStandIn, ws: Workspace, code: str):
    stand_in.oauth_codes[code] = ws
    page = client.get(INSTALL_PATH)
    assert page.status_code == 200
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page.text).group(1)
    query = parse_qs(urlparse(link.replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID] and "assistant:write" in query["scope"][0]
    assert "redirect_uri" not in query  # Slack uses the manifest's: no public URL setting needed
    state = query["state"][0]
    assert f"{COOKIE}={state}" in page.headers["set-cookie"]
    # The browser comes back from Slack with the code and the state, and the state cookie.
    return client.get(REDIRECT_PATH, params={"code": code, "state": state},
                      headers={"cookie": f"{COOKIE}={state}"})


def _event(client: TestClient, event: dict, ws: Workspace):
    body = event_body(event, team=ws.team_id, bot_user=ws.bot_user_id)
    return client.post(EVENTS_PATH, content=body.encode(), headers=signed_headers(body, content_type=JSON))


def _bots(database) -> dict[str, str]:
    with database.session() as s:
        return dict(s.execute(text("SELECT team_id, bot_token FROM slack_bots")).all())


def test_two_workspaces_install_answer_with_their_own_tokens_then_uninstall(oauth, stand_in, database):
    client, answerer, app = oauth
    for ws, code in ((A, "code-alpha"), (B, "code-beta")):
        done = _install(client, stand_in, ws, code)
        assert done.status_code == 200, done.text
    exchanges = stand_in.of("oauth.v2.access")
    assert [c.params["code"] for c in exchanges] == ["code-alpha", "code-beta"]
    assert _bots(database) == {A.team_id: A.token, B.team_id: B.token}
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=database.engine)
    assert store.find_installation(enterprise_id=None, team_id=A.team_id).user_id == A.installer

    # The same channel id in both workspaces; each answer goes out with its workspace's token.
    for ws, ts in ((A, "1700000300.000100"), (B, "1700000301.000100")):
        stand_in.calls.clear()
        event = {**mention("", ts=ts), "text": f"<@{ws.bot_user_id}> how does {ws.name} deploy?"}
        assert _event(client, event, ws).status_code == 200
        (post,) = stand_in.of("chat.postMessage")
        assert stand_in.token_of(post) == ws.token and post.params["thread_ts"] == ts
        # bolt authorized the event with the stored token (auth.test with that token).
        assert {stand_in.token_of(c) for c in stand_in.of("auth.test")} == {ws.token}
    # Each workspace's own bot user id was known to the listener (its mention was cleaned off).
    assert [c["question"] for c in answerer.calls] == ["how does Alpha deploy?", "how does Beta deploy?"]

    # Uninstalled from Alpha: its tokens are gone, Beta's stay; Alpha's events get no answer.
    A.revoked = True
    assert _event(client, {"type": "app_uninstalled", "event_ts": str(time.time())}, A).status_code == 200
    assert _bots(database) == {B.team_id: B.token}
    assert store.find_installation(enterprise_id=None, team_id=A.team_id) is None
    stand_in.calls.clear()
    _event(client, mention("still there?", ts="1700000302.000100"), A)
    assert stand_in.of("chat.postMessage") == [] and len(answerer.calls) == 2
    # Beta revokes the bot token: the bot row goes (the installer's record is a user's, kept
    # until Slack revokes that user's token too).
    _event(client, {"type": "tokens_revoked", "tokens": {"bot": [B.bot_user_id]}}, B)
    assert _bots(database) == {}


def test_forged_or_replayed_state_is_refused_and_no_code_is_exchanged(oauth, stand_in):
    client, _, _ = oauth
    stand_in.oauth_codes["code-x"] = A
    page = client.get(INSTALL_PATH)
    state = re.search(r"state=([^&\"]+)", page.text).group(1)
    raw = state.rsplit(".", 1)[0]
    forged = f"{raw}.{'0' * 32}"
    resp = client.get(REDIRECT_PATH, params={"code": "code-x", "state": forged},
                      headers={"cookie": f"{COOKIE}={forged}"})
    assert resp.status_code in (400, 401)
    no_cookie = client.get(REDIRECT_PATH, params={"code": "code-x", "state": state})
    assert no_cookie.status_code == 400  # another browser than the one that started the install
    assert stand_in.of("oauth.v2.access") == []
    ok = client.get(REDIRECT_PATH, params={"code": "code-x", "state": state},
                    headers={"cookie": f"{COOKIE}={state}"})
    assert ok.status_code == 200
    replay = client.get(REDIRECT_PATH, params={"code": "code-x", "state": state},
                        headers={"cookie": f"{COOKIE}={state}"})
    assert replay.status_code == 401 and len(stand_in.of("oauth.v2.access")) == 1


def test_channels_are_keyed_by_workspace_in_oauth_mode(oauth, stand_in, database):
    """Two workspaces' C0000001 are two channels to the core (scopes, interactions, audit)."""
    client, answerer, _ = oauth
    _install(client, stand_in, A, "code-a")
    _install(client, stand_in, B, "code-b")
    for ws in (A, B):
        body = message_action_body("How do we deploy?", ts="1700000400.000100", team=ws.team_id,
                                   response_url=stand_in.response_url())
        resp = client.post(EVENTS_PATH, content=body.encode(),
                           headers=signed_headers(body, content_type=FORM))
        assert resp.status_code == 200
    assert [c["channel"].id for c in answerer.calls] == [f"{A.team_id}:C0000001", f"{B.team_id}:C0000001"]
    with database.session() as s:
        channels = set(s.execute(select(Interaction.channel)).scalars())
        assert s.execute(select(func.count()).select_from(Interaction)).scalar_one() == 2
    assert channels == {f"{A.team_id}:C0000001", f"{B.team_id}:C0000001"}
    # Slack itself is always called with the plain channel id and the workspace's token.
    posts = stand_in.of("chat.postEphemeral")
    assert [(p.params["channel"], stand_in.token_of(p)) for p in posts] == [
        ("C0000001", A.token), ("C0000001", B.token)]


def test_partial_oauth_settings_fail_loudly(settings, stand_in):
    partial = slack_settings_for(settings, stand_in, slack_client_id=CLIENT_ID)
    with pytest.raises(ConfigError, match="SLACK_CLIENT_SECRET, SLACK_STATE_SECRET"):
        oauth_enabled(partial)
    assert not oauth_enabled(slack_settings_for(settings, stand_in))  # single-token mode


def test_serve_mounts_install_redirect_and_events_on_its_one_server(settings, database, stand_in):
    """``lorebot serve`` (HTTP mode, OAuth settings, no bot token): the three Slack routes are
    on the same Starlette app as /healthz, i.e. on LOREBOT_HTTP_PORT."""
    from bot.serve import Service
    from bot.server import create_app as server_app

    s = slack_settings_for(settings, stand_in, slack_bot_token=None, slack_client_id=CLIENT_ID,
                           slack_client_secret=CLIENT_SECRET, slack_state_secret="state-signing-key-42")
    service = Service(s, scheduler=False)
    routes = service._start_adapters(LoreBot(settings=s, db=database))
    assert {r.path for r in routes} == {EVENTS_PATH, INSTALL_PATH, REDIRECT_PATH}
    with TestClient(server_app(service.readiness, extra_routes=routes)) as client:
        assert client.get("/healthz").status_code == 200
        assert "slack.com/oauth/v2/authorize" in client.get(INSTALL_PATH).text
    assert stand_in.of("auth.test") == []  # no token to check until a workspace installs
