"""HTTP mode: the bolt app mounted at ``/slack/events`` on lorebot's Starlette server.

Events, slash commands and interactivity all POST to the one path. This uses bolt's Starlette
adapter (its request/response conversion) but not ``SlackRequestHandler.handle`` itself: that
calls the synchronous ``App.dispatch`` (which waits up to three seconds for ``ack``) on the event
loop, stalling ``/healthz`` and every other request meanwhile. Here dispatch runs on a worker
thread.

Before bolt sees a request, this route refuses, each with a 4xx and no traceback:
- a body over MAX_BODY_BYTES, by its Content-Length and, for a body without one, while it
  streams in (never more than the limit is held in memory);
- a missing or non-numeric ``X-Slack-Request-Timestamp`` (401: bolt's verifier would raise);
- a body bolt cannot parse, or JSON that is not an object (400 when signed, else 401);
- a correctly signed request seen before (409): a signature is claimed once, in the database,
  so a captured request replayed within Slack's five-minute window runs nowhere, on any replica.
  Slack's own retries are signed afresh, so they pass here and bolt's event-id dedup handles them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.ports import Core

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1_000_000  # Slack's payloads are a few kB; anything this big is not from Slack
ClaimSignature = Callable[[str], bool]  # True the first time a signature is seen, on any replica


def _parses(body: bytes, content_type: str) -> bool:
    """Whether bolt can parse ``body``: a JSON object, or a form whose ``payload`` is one."""
    try:
        text = body.decode("utf-8")
        if "application/json" in content_type or text.lstrip().startswith(("{", "[")):
            return isinstance(json.loads(text), dict)
        payload = parse_qs(text).get("payload")
        return not payload or isinstance(json.loads(payload[0]), dict)
    except (UnicodeDecodeError, ValueError):
        return False


async def _read_capped(request: Request) -> bytes | None:
    """The body, or None as soon as it passes MAX_BODY_BYTES (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.strip().isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for piece in request.stream():
        body.extend(piece)
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


SIGNATURE_CLAIMS = "slack-signature"  # processed_events namespace for request signatures (pruned with it)


def signature_claims(core: Core) -> ClaimSignature:
    """Claim a signed request's signature once across replicas (True: first time seen)."""
    return lambda signature: core.claim_event(platform=SIGNATURE_CLAIMS, event_id=signature)


def slack_routes(app: App, *, path: str = EVENTS_PATH, signing_secret: str | None = None,
                 claim: ClaimSignature | None = None) -> list[Route]:
    """Starlette routes for ``app``; ``lorebot serve`` mounts them next to /healthz.

    ``claim`` records a request signature once (:func:`signature_claims` over the core's
    exactly-once claims in Postgres, so every replica agrees); without it replays are not
    refused, so ``lorebot serve`` always passes one.
    """
    # bolt keeps the secret privately; reuse it so the malformed-body path checks signatures too.
    signing_secret = signing_secret or getattr(app, "_signing_secret", None)
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    async def slack_events(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and not declared.strip().isdigit():
            return _error("bad Content-Length", 400)
        body = await _read_capped(request)
        if body is None:
            log.warning("oversized request to the Slack endpoint refused")
            return _error("request body too large", 413)
        timestamp = request.headers.get("x-slack-request-timestamp")
        if verifier is not None and (timestamp is None or not timestamp.strip().isdigit()):
            return _error("invalid request", 401)
        signed = verifier is not None and verifier.is_valid_request(body, dict(request.headers))
        if not _parses(body, request.headers.get("content-type", "")):
            # Bolt would raise while parsing, before checking the signature; answer it here.
            if verifier is not None and not signed:
                return _error("invalid request", 401)
            log.warning("malformed body on the Slack endpoint refused")
            return _error("malformed body: expected a JSON object or a form with payload=<json object>", 400)
        if signed and claim is not None:
            signature = request.headers.get("x-slack-signature", "")
            try:
                first = await run_in_threadpool(claim, signature)
            except Exception:  # noqa: BLE001 - fail closed: Slack retries, signed afresh
                log.exception("could not record the request signature; refusing the request")
                return _error("temporarily unavailable", 503)
            if not first:
                log.warning("replayed Slack request refused")
                return _error("request already handled (replayed signature)", 409)
        bolt_response = await run_in_threadpool(app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    return [Route(path, slack_events, methods=["POST"], name="slack_events")]
