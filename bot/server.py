"""The HTTP side of ``lorebot serve``: health, readiness, metrics, and Slack's events URL.

``/healthz`` answers as long as the process runs. ``/readyz`` says whether this replica
should get traffic: the database answers, its schema is at head, every started adapter is
connected, and the process is not shutting down; otherwise 503 with the reasons.

With LOREBOT_METRICS_PORT set, ``/metrics`` moves to its own listener (with ``/healthz`` and
``/readyz``, on LOREBOT_METRICS_HOST, default LOREBOT_HTTP_HOST), so the port Slack reaches
can be public while metrics stay on an internal address; :func:`http_listeners` says which
apps to serve where. Unset, everything stays on the one port, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot import metrics
from bot.db import migrate
from bot.db.session import Database, ping
from bot.settings import Settings

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 5.0


@dataclass
class Readiness:
    """What ``/readyz`` checks. Adapters register a ``connected()`` callable when started."""

    db: Database | None
    adapters: dict[str, Callable[[], bool]] = field(default_factory=dict)
    draining: bool = False

    def problems(self) -> list[str]:
        """Every reason this replica is not ready; empty when it is."""
        found: list[str] = []
        if self.draining:
            found.append("shutting down")
        if self.db is None:
            found.append("database: not opened")
        else:
            try:
                ping(self.db.engine)
                if not migrate.is_at_head(self.db.engine):
                    found.append("database: schema is not at the latest migration; "
                                 "run `lorebot db upgrade`")
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
                found.append(f"database: unreachable ({reason[0] if reason else type(exc).__name__})")
        for name, connected in self.adapters.items():
            try:
                ok = bool(connected())
            except Exception:  # noqa: BLE001
                ok = False
            if not ok:
                found.append(f"{name}: not connected")
        return found


def create_app(readiness: Readiness, *, extra_routes: list[BaseRoute] | None = None,
               lifespan: Any = None, serve_metrics: bool = True) -> Starlette:
    """Probes, ``/metrics`` unless ``serve_metrics`` is False, and ``extra_routes`` (Slack's)."""
    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> Response:
        try:
            problems = await asyncio.wait_for(run_in_threadpool(readiness.problems),
                                              READY_TIMEOUT_S)
        except TimeoutError:
            problems = [f"readiness checks took longer than {READY_TIMEOUT_S:.0f}s"]
        metrics.READY.set(0 if problems else 1)
        if problems:
            return JSONResponse({"ready": False, "problems": problems}, status_code=503)
        return JSONResponse({"ready": True})

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *([Route("/metrics", metrics_endpoint, methods=["GET"])] if serve_metrics else []),
        *(extra_routes or []),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


@dataclass(frozen=True)
class Listener:
    """One address to serve one app on."""

    host: str
    port: int
    app: Starlette


def http_listeners(settings: Settings, readiness: Readiness, *, host: str | None = None,
                   port: int | None = None, extra_routes: list[BaseRoute] | None = None,
                   lifespan: Any = None) -> list[Listener]:
    """The main listener (probes, Slack's routes, and ``/metrics`` unless it has its own port),
    then the metrics listener when LOREBOT_METRICS_PORT names a different address."""
    host = host or settings.lorebot_http_host
    port = port or settings.lorebot_http_port
    metrics_port = settings.lorebot_metrics_port
    metrics_host = settings.lorebot_metrics_host or host
    separate = metrics_port is not None and (metrics_port, metrics_host) != (port, host)
    main = Listener(host, port, create_app(readiness, extra_routes=extra_routes, lifespan=lifespan,
                                           serve_metrics=not separate))
    if not separate:
        return [main]
    return [main, Listener(metrics_host, metrics_port, create_app(readiness))]
