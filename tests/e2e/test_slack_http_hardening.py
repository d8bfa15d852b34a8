"""The Slack HTTP endpoint refuses malformed, oversized and replayed requests with a 4xx, never a 500:
real signed requests through the real bolt App, a real uvicorn server for the streaming limits, and
the real embedded Postgres for replay claims shared by replicas."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.testclient import TestClient

from adapters.slack.app import create_app
from adapters.slack.http import EVENTS_PATH, MAX_BODY_BYTES, signature_claims, slack_routes
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

pytestmark = [pytest.mark.db, pytest.mark.e2e]


@pytest.fixture
def slack(settings, database, stand_in):
    s = slack_settings_for(settings, stand_in)
    answerer = RecordingAnswerer(settings=s, db=database)

    def replica() -> Starlette:
        core = LoreBot(settings=s, db=database, answerer=answerer)
        return Starlette(routes=slack_routes(create_app(core, s), claim=signature_claims(core)))

    return replica, answerer


@pytest.fixture
def client(slack) -> Iterator[TestClient]:
    replica, _ = slack
    # raise_server_exceptions=False: a traceback must show up as a 500 here, not pass as an exception
    with TestClient(replica(), raise_server_exceptions=False) as c:
        yield c


def _post(client: TestClient, body: str, content_type: str = JSON, headers: dict | None = None, **sign):
    return client.post(EVENTS_PATH, content=body.encode(),
                       headers=headers or signed_headers(body, content_type=content_type, **sign))


@pytest.mark.parametrize(("body", "content_type"), [
    ("[]", JSON), ("null", JSON), ("1", JSON), ('"text"', JSON), ("[{}]", JSON),
    ("payload=%5B%5D", FORM), ("payload=null", FORM), ("payload=1", FORM), ("[]", FORM),
])
def test_json_that_is_not_an_object_is_a_4xx(client: TestClient, body: str, content_type: str) -> None:
    unsigned = client.post(EVENTS_PATH, content=body.encode(), headers={"content-type": content_type})
    assert unsigned.status_code == 401
    signed = _post(client, body, content_type)
    assert signed.status_code == 400 and "JSON object" in signed.json()["error"]


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "-5", "17000000000000000000000x"])
def test_non_numeric_timestamp_is_a_401(client: TestClient, timestamp: str) -> None:
    body = event_body(mention("how do we deploy?", ts="1700000300.000100"))
    headers = signed_headers(body, content_type=JSON)
    headers["x-slack-request-timestamp"] = timestamp
    assert _post(client, body, headers=headers).status_code == 401
    form = slash_body("status", response_url="http://127.0.0.1:9/r")
    headers = signed_headers(form, content_type=FORM)
    headers["x-slack-request-timestamp"] = timestamp
    assert _post(client, form, FORM, headers=headers).status_code == 401


def test_signed_request_replayed_is_refused_on_every_replica(slack, stand_in) -> None:
    replica, answerer = slack
    body = slash_body("how do we deploy?", response_url=stand_in.response_url())
    headers = signed_headers(body, content_type=FORM)
    with TestClient(replica(), raise_server_exceptions=False) as first, \
            TestClient(replica(), raise_server_exceptions=False) as second:
        assert _post(first, body, FORM, headers=headers).status_code == 200
        again = _post(first, body, FORM, headers=headers)
        assert again.status_code == 409 and "replayed" in again.json()["error"]
        assert _post(second, body, FORM, headers=headers).status_code == 409  # another replica agrees
        # the same command signed afresh (a new timestamp: what a real Slack retry looks like) runs
        fresh = signed_headers(body, content_type=FORM,
                               timestamp=int(headers["x-slack-request-timestamp"]) - 7)
        assert _post(second, body, FORM, headers=fresh).status_code == 200
    assert stand_in.wait_for(lambda: len(stand_in.responses()) == 2)
    time.sleep(0.2)
    assert len(stand_in.responses()) == 2 and len(answerer.calls) == 2


def test_bad_signature_does_not_claim_the_real_one(client: TestClient, stand_in) -> None:
    body = event_body(mention("how do we deploy?", ts="1700000200.000100"))
    good = signed_headers(body, content_type=JSON)
    forged = dict(good, **{"x-slack-signature": "v0=" + "0" * 64})
    assert _post(client, body, headers=forged).status_code == 401
    assert _post(client, body, headers=good).status_code == 200


# --- a real server: the limits while streaming ---

@pytest.fixture
def served(slack) -> Iterator[int]:
    replica, _ = slack
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(replica(), log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(10)
    sock.close()


def _raw(port: int, head: str, chunks: Iterator[bytes]) -> tuple[str, int]:
    """Send ``head`` then ``chunks`` until the server answers; (status line, body bytes sent)."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(head.encode())
    sent = 0
    conn.setblocking(False)
    answer = b""
    try:
        for chunk in chunks:
            with contextlib.suppress(BlockingIOError):
                answer += conn.recv(65536)
            if answer:
                break
            try:
                conn.sendall(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        conn.setblocking(True)
        conn.settimeout(10)
        while b"\r\n" not in answer:
            more = conn.recv(65536)
            if not more:
                break
            answer += more
    finally:
        conn.close()
    return answer.split(b"\r\n", 1)[0].decode(), sent


def test_declared_oversized_body_is_refused_before_it_is_sent(served: int) -> None:
    head = (f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\n\r\n")
    status, sent = _raw(served, head, iter(()))
    assert status.endswith("413 Request Entity Too Large") and sent == 0


def test_streamed_oversized_body_is_cut_off_at_the_limit(served: int) -> None:
    piece = b"x" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"

    def endless() -> Iterator[bytes]:
        for _ in range(200 * 16):  # 200 MB if nobody stops it
            yield chunk
            time.sleep(0.001)

    head = (f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    status, sent = _raw(served, head, endless())
    assert status.endswith("413 Request Entity Too Large")
    # the answer came once the limit was passed, not after the 200 MB (socket buffers allow some slack)
    assert sent < MAX_BODY_BYTES + 16 * 1024 * 1024


def test_a_normal_request_still_works_on_the_real_server(served: int) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-9"})
    headers = signed_headers(body, content_type=JSON)
    head = f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    status, _ = _raw(served, head, iter([body.encode()]))
    assert status.endswith("200 OK")


def test_nul_and_lone_surrogate_in_a_question_are_cleaned_at_the_edge(client: TestClient, slack,
                                                                      stand_in) -> None:
    _, answerer = slack
    # json.dumps writes "\u0000" and "\ud800": valid JSON that Slack can deliver
    body = event_body(mention("how do we\x00 deploy \ud800?", ts="1700000400.000100"))
    assert _post(client, body).status_code == 200
    # the recording answerer stores the question in Postgres, which refuses NUL: it would never post
    assert stand_in.wait_for(lambda: len(stand_in.of("chat.postMessage")) == 1)
    question = answerer.calls[0]["question"]
    assert "\x00" not in question and "\ud800" not in question and "\ufffd" in question
