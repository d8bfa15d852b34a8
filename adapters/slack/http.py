"""HTTP mode: the bolt app mounted at ``/slack/events`` on lorebot's Starlette server.

Events, slash commands and interactivity all POST to the one path. This uses bolt's Starlette
adapter (its request/response conversion) but not ``SlackRequestHandler.handle`` itself: that
calls the synchronous ``App.dispatch`` (which waits up to three seconds for ``ack``) on the event
loop, stalling ``/healthz`` and every other request meanwhile. Here dispatch runs on a worker
thread. Bodies bolt cannot parse get 400 (401 if unsigned) instead of an exception.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1_000_000  # Slack's payloads are a few kB; anything this big is not from Slack


def _parses(body: bytes, content_type: str) -> bool:
    try:
        text = body.decode("utf-8")
        if "application/json" in content_type or text.lstrip().startswith("{"):
            json.loads(text)
        else:
            payload = parse_qs(text).get("payload")
            if payload:
                json.loads(payload[0])
        return True
    except (UnicodeDecodeError, ValueError):
        return False


def slack_routes(app: App, *, path: str = EVENTS_PATH, signing_secret: str | None = None) -> list[Route]:
    """Starlette routes for ``app``; ``lorebot serve`` mounts them next to /healthz."""
    # bolt keeps the secret privately; reuse it so the malformed-body path checks signatures too.
    signing_secret = signing_secret or getattr(app, "_signing_secret", None)
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            log.warning("oversized request to the Slack endpoint refused", extra={"bytes": len(body)})
            return JSONResponse({"error": "request body too large"}, status_code=413)
        if not _parses(body, request.headers.get("content-type", "")):
            # Bolt would raise while parsing, before checking the signature; answer it here.
            if verifier is not None and not verifier.is_valid_request(body, dict(request.headers)):
                return JSONResponse({"error": "invalid request"}, status_code=401)
            log.warning("malformed body on the Slack endpoint refused")
            return JSONResponse({"error": "malformed body: expected JSON or a form with payload=<json>"},
                                status_code=400)
        bolt_response = await run_in_threadpool(app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    return [Route(path, slack_events, methods=["POST"], name="slack_events")]
