"""Test harness for the Slack adapter: a Web API stand-in and correctly signed requests.

``SlackStandIn`` is a real HTTP server on 127.0.0.1 that answers like Slack's Web API and
records every call, so the real ``slack_sdk.WebClient`` (and bolt's ``respond`` to a
``response_url``) talk to it over the network exactly as they would to Slack.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

from slack_bolt import BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.db.models import Interaction
from bot.identity import user_hash
from bot.settings import Settings, load_settings
from bot.types import Actor, Answer, ChannelRef, Citation

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-1111-2222-testtoken"
BOT_USER = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM = "T0000001"


@dataclass
class Workspace:
    """A Slack workspace the app can be installed on (OAuth tests)."""

    team_id: str
    token: str
    bot_user_id: str
    bot_id: str
    name: str = "Workspace"
    installer: str = "UINSTALL1"
    revoked: bool = False


def _bearer(headers: dict[str, str]) -> str:
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    return auth[len("Bearer "):] if auth.startswith("Bearer ") else ""


@dataclass
class ApiCall:
    method: str  # "chat.postMessage", or the response_url path like "/response/abc"
    params: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    response: dict[str, Any] | None = None  # what the stand-in answered


class SlackStandIn:
    """Answers like slack.com/api; ``calls`` lists what the app sent, in order."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.admins: set[str] = set()
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.replies: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # method -> list of (status, body, headers) served before the normal answer
        self.failures: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = {}
        # OAuth: code -> the workspace it installs on; token -> that workspace (auth.test).
        self.oauth_codes: dict[str, Workspace] = {}
        self.workspaces: dict[str, Workspace] = {}
        self.client_credentials: tuple[str, str] | None = None  # (id, secret) oauth.v2.access wants
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                if "json" in (self.headers.get("content-type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw).items()}
                    for key in ("blocks", "view"):
                        if isinstance(params.get(key), str):
                            params[key] = json.loads(params[key])
                path = self.path.split("?")[0]
                method = path.rsplit("/api/", 1)[-1] if "/api/" in path else path
                status, body, headers = stand_in._answer(method, params, dict(self.headers))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- lifecycle ---
    def __enter__(self) -> SlackStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self) -> str:
        return f"{self.url}/response/{uuid.uuid4().hex[:8]}"

    # --- answering ---
    def _answer(self, method: str, params: dict[str, Any],
                headers: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        call = ApiCall(method, params, headers)
        with self._lock:
            self.calls.append(call)
            queued = self.failures.get(method)
            result = queued.pop(0) if queued else None
        if result is None:
            result = self._reply(method, params, headers)
        call.response = result[1]
        return result

    def _reply(self, method: str, params: dict[str, Any],
               headers: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method == "auth.test":
            token = _bearer(headers) or params.get("token", "")
            ws = self.workspaces.get(token)
            if ws is not None:
                if ws.revoked:
                    return 200, {"ok": False, "error": "token_revoked"}, {}
                return 200, {"ok": True, "url": f"https://{ws.team_id.lower()}.slack.com/", "team": ws.name,
                             "user": "lorebot", "team_id": ws.team_id, "user_id": ws.bot_user_id,
                             "bot_id": ws.bot_id}, {}
            return 200, {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "lorebot",
                         "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID}, {}
        if method == "oauth.v2.access":
            return self._oauth_access(params, headers)
        if method == "chat.postEphemeral":
            return 200, {"ok": True, "message_ts": f"1800000000.{next(self._ts):06d}"}, {}
        if method == "conversations.open":
            return 200, {"ok": True, "channel": {"id": "D" + str(params.get("users", "U"))[1:]}}, {}
        if method == "views.publish":
            return 200, {"ok": True, "view": {"id": "VHOME1", **(params.get("view") or {})}}, {}
        if method == "chat.startStream":  # the streamed message exists from its first append
            ts = f"1800000000.{next(self._ts):06d}"
            return 200, {"ok": True, "channel": params.get("channel"), "ts": ts}, {}
        if method in ("chat.appendStream", "chat.stopStream", "chat.update"):
            return 200, {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}, {}
        if method == "chat.postMessage":
            ts = f"1800000000.{next(self._ts):06d}"
            return 200, {"ok": True, "channel": params.get("channel"), "ts": ts,
                         "message": {"text": params.get("text"), "ts": ts, "bot_id": BOT_ID}}, {}
        if method == "users.info":
            uid = params.get("user", "")
            return 200, {"ok": True, "user": {"id": uid, "is_admin": uid in self.admins,
                                              "is_owner": False}}, {}
        if method == "conversations.history":
            return 200, self._page(self.history.get(params.get("channel", ""), []), params), {}
        if method == "conversations.replies":
            msgs = self.replies.get((params.get("channel", ""), params.get("ts", "")), [])
            return 200, {"ok": True, "messages": msgs, "has_more": False}, {}
        if method == "conversations.info":
            return 200, {"ok": True, "channel": {"id": params.get("channel"), "name": "general"}}, {}
        return 200, {"ok": True}, {}

    def _oauth_access(self, params: dict[str, Any],
                      headers: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Slack's token exchange: client credentials by HTTP Basic auth, a code used once."""
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if self.client_credentials is not None:
            expected = base64.b64encode(":".join(self.client_credentials).encode()).decode()
            if auth != f"Basic {expected}":
                return 200, {"ok": False, "error": "invalid_client_id"}, {}
        with self._lock:
            ws = self.oauth_codes.pop(params.get("code", ""), None)
        if ws is None:
            return 200, {"ok": False, "error": "invalid_code"}, {}
        self.workspaces[ws.token] = ws
        return 200, {"ok": True, "app_id": "A0000001", "authed_user": {"id": ws.installer},
                     "scope": "app_mentions:read,chat:write,commands", "token_type": "bot",
                     "access_token": ws.token, "bot_user_id": ws.bot_user_id,
                     "team": {"id": ws.team_id, "name": ws.name}, "enterprise": None,
                     "is_enterprise_install": False}, {}

    @staticmethod
    def _page(messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        oldest = float(params.get("oldest") or 0)
        newest_first = sorted((m for m in messages if float(m["ts"]) > oldest),
                              key=lambda m: float(m["ts"]), reverse=True)
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        page = newest_first[start:start + limit]
        more = start + limit < len(newest_first)
        return {"ok": True, "messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    # --- inspecting ---
    def token_of(self, call: ApiCall) -> str:
        return _bearer(call.headers)

    def of(self, method: str) -> list[ApiCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def streamed_text(self) -> str:
        """The markdown the app appended to its streams, in order (chunks or markdown_text)."""
        out = []
        for call in self.calls:
            if call.method in ("chat.startStream", "chat.appendStream", "chat.stopStream"):
                out.append(call.params.get("markdown_text") or "")
                out += [c.get("text", "") for c in call.params.get("chunks") or []
                        if c.get("type") == "markdown_text"]
        return "".join(out)

    def responses(self) -> list[ApiCall]:
        with self._lock:
            return [c for c in self.calls if c.method.startswith("/response/")]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Poll ``predicate`` until it holds (work done after the ack lands a little later)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()


def slack_settings_for(settings: Settings, stand_in: SlackStandIn, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"slack_bot_token": BOT_TOKEN, "slack_signing_secret": SIGNING_SECRET,
                              "slack_api_url": stand_in.api_url, **overrides}
    url = settings.database_url.get_secret_value() if settings.database_url else None
    return load_settings(_env_file=None, lorebot_data_dir=settings.lorebot_data_dir,
                         database_url=url, **values)


@dataclass
class RecordingAnswerer:
    """Answers with fixed text and writes the interaction row the real service would write
    (none with ``db=None``: on FakeCore, which keeps its own record)."""

    settings: Settings
    db: Any
    text: str = "Deploys run from main every weekday [1]."
    error: Exception | None = None
    gate: threading.Event | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, question: str, *, channel: ChannelRef, thread: str | None, asker: Actor,
               on_text: Any = None) -> Answer:
        self.calls.append({"question": question, "channel": channel, "thread": thread, "asker": asker})
        if self.gate is not None:
            assert self.gate.wait(10), "test never released the answerer"
        if self.error is not None:
            raise self.error
        iid = uuid.uuid4()
        if self.db is not None:
            with self.db.session() as s:
                s.add(Interaction(id=iid, platform=channel.platform, channel=channel.id,
                                  thread=thread, asker_hash=user_hash(self.settings, asker),
                                  question=question, answer=self.text))
        cite = Citation(marker=1, title="Deploy guide", uri="https://docs.example.org/deploy",
                        heading="Deploying > Production", snippet="Deploys run from main", score=0.9,
                        chunk_id=1, document_id=1, collection="default",
                        ingested_at=datetime.now(UTC) - timedelta(days=3))
        return Answer(text=self.text, citations=[cite], abstained=False, interaction_id=iid,
                      question=question)


# --------------------------------------------------------------------------- requests


def signed_headers(body: str, *, content_type: str, secret: str = SIGNING_SECRET,
                   timestamp: int | None = None, retry_num: int | None = None) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    headers = {
        "content-type": content_type,
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
    }
    if retry_num is not None:
        headers["x-slack-retry-num"] = str(retry_num)
        headers["x-slack-retry-reason"] = "http_timeout"
    return headers


def event_body(event: dict[str, Any], *, event_id: str | None = None, team: str = TEAM,
               bot_user: str = BOT_USER) -> str:
    return json.dumps({
        "token": "legacy", "team_id": team, "api_app_id": "A0000001", "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}", "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": bot_user, "is_bot": True}],
        "event": event,
    })


def message_action_body(text: str, *, ts: str, response_url: str, user: str = "UASKER1",
                        channel: str = "C0000001", team: str = TEAM, thread_ts: str | None = None,
                        callback_id: str = "lorebot_ask_about_this") -> str:
    """A message shortcut press ("More actions" on a message)."""
    message: dict[str, Any] = {"type": "message", "user": "UAUTHOR1", "ts": ts, "text": text}
    if thread_ts:
        message["thread_ts"] = thread_ts
    payload = {
        "type": "message_action", "callback_id": callback_id, "trigger_id": "1337.45.t",
        "team": {"id": team, "domain": "test"}, "user": {"id": user, "team_id": team},
        "channel": {"id": channel, "name": "general"}, "message_ts": ts, "message": message,
        "response_url": response_url, "api_app_id": "A0000001", "token": "legacy", "action_ts": ts,
    }
    return urlencode({"payload": json.dumps(payload)})


def slash_body(text: str, *, response_url: str, user: str = "UASKER1", channel: str = "C0000001",
               channel_name: str = "general") -> str:
    return urlencode({
        "token": "legacy", "team_id": TEAM, "team_domain": "test", "channel_id": channel,
        "channel_name": channel_name, "user_id": user, "user_name": "asker", "command": "/lore",
        "text": text, "api_app_id": "A0000001", "response_url": response_url,
        "trigger_id": "1337.42.abcdef",
    })


def action_body(action_id: str, value: str, *, response_url: str, user: str = "UVOTER1",
                channel: str | None = "C0000001", message_ts: str = "1800000000.000001",
                team: str = TEAM) -> str:
    """A button press on a message (``channel`` None: on the Home tab, a view)."""
    payload: dict[str, Any] = {
        "type": "block_actions", "team": {"id": team}, "user": {"id": user},
        "api_app_id": "A0000001", "token": "legacy", "trigger_id": "1337.43.trigger",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
        "channel": {"id": channel}, "response_url": response_url,
        "actions": [{"type": "button", "action_id": action_id, "block_id": "lorebot_feedback",
                     "value": value, "action_ts": str(time.time())}],
    }
    if channel is None:
        payload.pop("channel")
        payload.pop("response_url")
        payload["container"] = {"type": "view", "view_id": "VHOME1"}
        payload["view"] = {"id": "VHOME1", "type": "home", "blocks": []}
    return urlencode({"payload": json.dumps(payload)})


def feedback_body(value: str, *, user: str = "UVOTER1", channel: str = "C0000001",
                  message_ts: str = "1800000000.000001", team: str = TEAM) -> str:
    """A press of a native feedback button (``feedback_buttons`` in ``context_actions``)."""
    payload = {
        "type": "block_actions", "team": {"id": team}, "user": {"id": user},
        "api_app_id": "A0000001", "token": "legacy", "trigger_id": "1337.46.trigger",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
        "channel": {"id": channel},
        "actions": [{"type": "feedback_buttons", "action_id": "lorebot_feedback",
                     "block_id": "lorebot_native_feedback", "value": value,
                     "action_ts": str(time.time())}],
    }
    return urlencode({"payload": json.dumps(payload)})


def view_submission_body(interaction_id: str, text: str, *, user: str = "UVOTER1") -> str:
    payload = {
        "type": "view_submission", "team": {"id": TEAM}, "user": {"id": user},
        "api_app_id": "A0000001", "token": "legacy", "trigger_id": "1337.44.t",
        "view": {"id": "V1", "type": "modal", "callback_id": "lorebot_feedback_modal",
                 "private_metadata": interaction_id,
                 "state": {"values": {"what": {"text": {"type": "plain_text_input", "value": text}}}}},
    }
    return urlencode({"payload": json.dumps(payload)})


JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def dispatch(app: Any, body: str, *, content_type: str = JSON, **sign: Any) -> BoltResponse:
    """Feed ``body`` to the bolt app as Slack would, signed unless told otherwise."""
    return app.dispatch(BoltRequest(body=body, headers=signed_headers(body, content_type=content_type,
                                                                      **sign)))


def mention(text: str, *, ts: str, channel: str = "C0000001", user: str = "UASKER1",
            thread_ts: str | None = None) -> dict[str, Any]:
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "ts": ts,
             "channel": channel, "event_ts": ts}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(text: str, *, ts: str, channel: str = "C0000001", user: str | None = "UASKER1",
            channel_type: str = "channel", thread_ts: str | None = None,
            **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "message", "text": text, "ts": ts, "channel": channel,
                             "channel_type": channel_type, "event_ts": ts, **extra}
    if user:
        event["user"] = user
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def reaction(name: str, *, item_ts: str, added: bool = True, user: str = "UVOTER1",
             channel: str = "C0000001") -> dict[str, Any]:
    return {"type": "reaction_added" if added else "reaction_removed", "user": user, "reaction": name,
            "item_user": BOT_USER, "item": {"type": "message", "channel": channel, "ts": item_ts},
            "event_ts": str(time.time())}
