"""``lorebot serve``: every part of a running lorebot, started and stopped in order.

Start: database (migrated) -> scheduler -> adapters whose credentials are set -> HTTP server.
SIGTERM/SIGINT: /readyz turns 503, the HTTP server stops taking requests, the adapters
disconnect (no new questions), in-flight answers and admin jobs get the rest of
``LOREBOT_SHUTDOWN_TIMEOUT_S`` to finish, the scheduler stops, connections (and with them
any advisory locks) are closed. A watchdog ends the process if that takes longer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from bot import metrics
from bot.admin.router import CommandRouter
from bot.core import Answerer, LoreBot
from bot.inflight import InFlight
from bot.server import Readiness, create_app
from bot.settings import Settings
from bot.types import Actor, Answer, ChannelRef

log = logging.getLogger(__name__)

WATCHDOG_EXIT_CODE = 3


class TrackedAnswerer:
    """The answering service, built on first use and counted while it answers."""

    def __init__(self, factory: Callable[[], Answerer], inflight: InFlight) -> None:
        self._factory = factory
        self._real: Answerer | None = None
        self._lock = threading.Lock()
        self.inflight = inflight

    def answer(self, question: str, *, channel: ChannelRef, thread: str | None,
               asker: Actor) -> Answer:
        with self.inflight.track():
            if self._real is None:
                with self._lock:
                    if self._real is None:
                        self._real = self._factory()
            answer = self._real.answer(question, channel=channel, thread=thread, asker=asker)
        metrics.observe_answer(platform=channel.platform, abstained=answer.abstained,
                               timings_ms=answer.timings_ms)
        return answer


class ServedLoreBot(LoreBot):
    """The core as ``lorebot serve`` runs it: votes are counted for /metrics too."""

    def vote(self, **kwargs: Any) -> bool:
        recorded = super().vote(**kwargs)
        if recorded:
            metrics.VOTES.labels(value="up" if kwargs.get("value", 0) > 0 else "down").inc()
        return recorded


class Service:
    def __init__(self, settings: Settings, *, host: str | None = None, port: int | None = None,
                 scheduler: bool = True) -> None:
        self.settings = settings
        self.host = host or settings.lorebot_http_host
        self.port = port or settings.lorebot_http_port
        self.with_scheduler = scheduler
        self.inflight = InFlight()
        self.readiness = Readiness(db=None)
        self._stoppers: list[tuple[str, Callable[[], None]]] = []
        # Work accepted before shutdown that must finish: (name, wait(timeout) -> done?).
        self._drains: list[tuple[str, Callable[[float], bool]]] = []
        self._stop_requested_at: float | None = None
        self._server: Any = None
        self.scheduler: Any = None

    # --- start ---
    def run(self) -> int:
        from bot.runtime import open_for_serving

        settings = self.settings
        db = open_for_serving(settings)
        self.readiness.db = db

        def build_answerer() -> Answerer:
            from bot.answering.service import AnsweringService

            return AnsweringService.from_settings(settings, db)

        router = CommandRouter(settings=settings, db=db, on_sources_changed=self._sources_changed)
        self._drains.append(("admin commands", router.jobs.wait))
        core = ServedLoreBot(settings=settings, db=db, router=router,
                             answerer=TrackedAnswerer(build_answerer, self.inflight),
                             on_sources_changed=self._sources_changed)
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            if self.with_scheduler:
                from bot.scheduler import Scheduler

                self.scheduler = Scheduler(settings=settings, db=db)
                self.scheduler.start()
            routes = self._start_adapters(core)
            self._serve_http(routes)
        finally:
            self._shutdown(core)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _sources_changed(self) -> None:
        if self.scheduler is not None:
            self.scheduler.refresh()

    def _start_adapters(self, core: LoreBot) -> list[Any]:
        s = self.settings
        routes: list[Any] = []
        if s.has("slack_bot_token") and s.has("slack_app_token"):
            from adapters.slack.app import create_app as slack_app
            from adapters.slack.socket import start_socket_mode

            listeners = self.slack_listeners(core)
            handler = start_socket_mode(slack_app(core, s, socket_mode=True, listeners=listeners), s)
            self.readiness.adapters["slack"] = handler.client.is_connected
            self._stoppers.append(("slack", handler.close))
        elif s.has("slack_bot_token") and s.has("slack_signing_secret"):
            from adapters.slack.app import create_app as slack_app
            from adapters.slack.http import slack_routes

            listeners = self.slack_listeners(core)
            routes.extend(slack_routes(slack_app(core, s, listeners=listeners)))
            self.readiness.adapters["slack"] = lambda: True  # auth.test passed when built
            log.info("Slack events accepted over HTTP at /slack/events")
        if s.has("discord_token"):
            self._start_discord(core)
        return routes

    def slack_listeners(self, core: LoreBot) -> Any:
        """Slack's listeners, whose queued answers shutdown waits for (before counting)."""
        from adapters.slack.listeners import SlackListeners

        listeners = SlackListeners(core, self.settings)
        self._drains.append(("Slack answers", _drainer(listeners.close)))
        return listeners

    def _start_discord(self, core: LoreBot) -> None:
        from adapters.discord.bot import create_bot

        token = self.settings.secret("discord_token")
        bot = create_bot(self.settings, core)
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(bot.start(token))
            except Exception:  # noqa: BLE001 - readiness reports it; serving Slack goes on
                log.exception("Discord connection ended with an error")

        threading.Thread(target=run, name="discord", daemon=True).start()
        self.readiness.adapters["discord"] = lambda: bot.is_ready() and not bot.is_closed()

        def stop() -> None:
            if not loop.is_closed() and not bot.is_closed():
                asyncio.run_coroutine_threadsafe(bot.close(), loop).result(timeout=5)

        self._stoppers.append(("discord", stop))

    def _serve_http(self, routes: list[Any]) -> None:
        import uvicorn

        app = create_app(self.readiness, extra_routes=routes)
        config = uvicorn.Config(
            app, host=self.host, port=self.port, log_config=None, access_log=False,
            timeout_graceful_shutdown=max(1, int(self.settings.lorebot_shutdown_timeout_s / 3)),
        )
        service = self

        class _Server(uvicorn.Server):
            def handle_exit(self, sig: int, frame: Any) -> None:
                service._on_signal(sig, frame)  # start the shutdown clock and the watchdog
                super().handle_exit(sig, frame)

        self._server = _Server(config)
        log.info("lorebot serving on http://%s:%d", self.host, self.port)
        if self._stop_requested_at is None:
            self._server.run()

    # --- stop ---
    def _on_signal(self, sig: int, frame: Any) -> None:
        if self._stop_requested_at is None:
            log.info("received %s; shutting down", signal.Signals(sig).name)
            self._stop_requested_at = time.monotonic()
            self.readiness.draining = True
            timer = threading.Timer(self.settings.lorebot_shutdown_timeout_s, self._watchdog)
            timer.daemon = True
            timer.start()
        if self._server is not None and not self._server.should_exit:
            self._server.should_exit = True

    def _watchdog(self) -> None:
        log.error("shutdown took longer than LOREBOT_SHUTDOWN_TIMEOUT_S; exiting now")
        logging.shutdown()
        os._exit(WATCHDOG_EXIT_CODE)

    def _remaining(self) -> float:
        start = self._stop_requested_at or time.monotonic()
        # keep a little of the budget for closing connections after the waits
        return self.settings.lorebot_shutdown_timeout_s * 0.9 - (time.monotonic() - start)

    def _shutdown(self, core: LoreBot) -> None:
        if self._stop_requested_at is None:
            self._stop_requested_at = time.monotonic()
        self.readiness.draining = True
        for name, stop in reversed(self._stoppers):
            try:
                stop()
            except Exception:  # noqa: BLE001 - keep shutting the rest down
                log.exception("stopping %s failed", name)
        # Answers already queued on an adapter's pool are finished (and so counted) first.
        for name, wait in self._drains:
            if not wait(max(0.0, self._remaining())):
                log.warning("%s were still running at shutdown", name)
        if not self.inflight.wait(self._remaining()):
            log.warning("%d answers were still running at shutdown", self.inflight.count)
        if self.scheduler is not None:
            self.scheduler.shutdown(timeout_s=max(0.0, self._remaining()))
        core.close()  # closes pooled connections; the server drops their advisory locks
        log.info("lorebot stopped")


def _drainer(close: Callable[[], None]) -> Callable[[float], bool]:
    """``close`` (which blocks until its work is done) as a wait with a timeout."""

    def wait(timeout: float) -> bool:
        thread = threading.Thread(target=close, name="drain", daemon=True)
        thread.start()
        thread.join(timeout)
        return not thread.is_alive()

    return wait
