"""The Slack adapter through its real HTTP path: Starlette routes from ``slack_routes``."""

from __future__ import annotations

import json
import time

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from adapters.slack.app import create_app
from adapters.slack.http import EVENTS_PATH, MAX_BODY_BYTES, slack_routes
from bot.core import LoreBot
from tests.slack_harness import (
    FORM,
    JSON,
    RecordingAnswerer,
    event_body,
    mention,
    signed_headers,
    slack_settings_for,
    slash_body,
)

pytestmark = pytest.mark.db


@pytest.fixture
def http(settings, database, stand_in):
    s = slack_settings_for(settings, stand_in)
    answerer = RecordingAnswerer(settings=s, db=database)
    # Production wiring: client from settings (SLACK_API_URL), immediate ack, work after.
    app = create_app(LoreBot(settings=s, db=database, answerer=answerer), s)
    with TestClient(Starlette(routes=slack_routes(app))) as client:
        yield client, answerer


def _post(client, body: str, content_type: str = JSON, **sign):
    return client.post(EVENTS_PATH, content=body.encode(),
                       headers=signed_headers(body, content_type=content_type, **sign))


def test_mention_over_http_is_acked_then_answered(http, stand_in):
    client, answerer = http
    resp = _post(client, event_body(mention("how do we deploy?", ts="1700000100.000100")))
    assert resp.status_code == 200
    assert stand_in.wait_for(lambda: len(stand_in.of("chat.postMessage")) == 1)
    post = stand_in.of("chat.postMessage")[0].params
    assert post["thread_ts"] == "1700000100.000100" and "Deploys run from main" in post["text"]
    assert stand_in.wait_for(lambda: len(stand_in.of("reactions.remove")) == 1)


def test_slash_over_http_acks_in_the_response(http, stand_in):
    client, _ = http
    resp = _post(client, slash_body("how do we deploy?", response_url=stand_in.response_url()), FORM)
    assert resp.status_code == 200 and "how do we deploy?" in resp.json()["text"]
    assert stand_in.wait_for(lambda: len(stand_in.responses()) == 1)


def test_url_verification_handshake(http):
    client, _ = http
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"})
    resp = _post(client, body)
    assert resp.status_code == 200 and "c-123" in resp.text


def test_bad_signature_and_stale_timestamp_get_401_over_http(http, stand_in):
    client, answerer = http
    body = event_body(mention("how do we deploy?", ts="1700000101.000100"))
    assert _post(client, body, secret="wrong-secret").status_code == 401
    assert _post(client, body, timestamp=int(time.time()) - 3600).status_code == 401
    unsigned = client.post(EVENTS_PATH, content=body.encode(), headers={"content-type": JSON})
    assert unsigned.status_code == 401
    time.sleep(0.2)
    assert answerer.calls == [] and stand_in.of("chat.postMessage") == []


def test_malformed_bodies_are_refused_cleanly(http, stand_in):
    client, _ = http
    resp = _post(client, "{not json")
    assert resp.status_code == 400 and "malformed" in resp.json()["error"]
    assert _post(client, "payload=%7Bbroken", FORM).status_code == 400
    # Unsigned garbage is refused as unauthenticated, not parsed.
    garbage = client.post(EVENTS_PATH, content=b"{not json", headers={"content-type": JSON})
    assert garbage.status_code == 401
    big = "x" * (MAX_BODY_BYTES + 1)
    assert _post(client, big).status_code == 413
    # The server still works afterwards.
    assert _post(client, json.dumps({"type": "url_verification", "challenge": "ok"})).status_code == 200
