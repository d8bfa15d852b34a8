"""Discord's 429 on a send, through the real discord.py HTTP client and lorebot's send path.

A stand-in Discord REST API on 127.0.0.1 answers the first "create message" with 429 and
``retry_after``; discord.py (``HTTPClient.request``) sleeps that long and retries (up to five
tries; with ``max_ratelimit_timeout`` unset it waits however long Discord asks), so the answer
still arrives, once, after the wait. A 429 without Discord's ``Via`` header (Cloudflare's ban
page) is not retried: it surfaces as ``HTTPException`` and the adapter apologises in the log
instead of crashing the listener.
"""

from __future__ import annotations

import json
import time

import discord
import pytest
from aiohttp import web

from adapters.discord import create_bot
from adapters.discord.cogs import send_answer
from bot.settings import load_settings
from bot.types import Actor, ChannelRef
from tests.helpers.fake_core import FakeCore

pytestmark = pytest.mark.e2e

BOT_ID = "1100000000000000001"
CHANNEL_ID = 1100000000000000002


def _json(data: dict, *, status: int = 200, headers: dict | None = None) -> web.Response:
    # discord.py parses a body as JSON only for exactly "application/json" (no charset).
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


class StandInDiscord:
    def __init__(self, *, limited: int, retry_after: float, via: bool = True) -> None:
        self.limited = limited
        self.retry_after = retry_after
        self.via = via
        self.posts: list[tuple[float, dict]] = []

    async def me(self, request: web.Request) -> web.Response:
        return _json({"id": BOT_ID, "username": "lorebot", "discriminator": "0",
                                  "avatar": None, "bot": True, "global_name": None})

    async def application(self, request: web.Request) -> web.Response:
        owner = {"id": "1100000000000000009", "username": "owner", "discriminator": "0",
                 "avatar": None}
        return _json({"id": BOT_ID, "name": "lorebot", "icon": None, "description": "",
                      "bot_public": True, "bot_require_code_grant": False, "owner": owner,
                      "verify_key": "00", "flags": 1 << 19, "summary": ""})

    async def guilds(self, request: web.Request) -> web.Response:
        return web.Response(body=json.dumps([
            {"id": "11", "name": "Docs", "permissions": str(discord.Permissions.all().value)},
            {"id": "12", "name": "Ops", "permissions": str(discord.Permissions(send_messages=True).value)},
        ]).encode(), headers={"Content-Type": "application/json"})

    async def create_message(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.posts.append((time.monotonic(), body))
        if len(self.posts) <= self.limited:
            headers = {"Via": "1.1 google"} if self.via else {}
            return _json({"message": "You are being rate limited.",
                                      "retry_after": self.retry_after, "global": False},
                                     status=429, headers=headers)
        channel = request.match_info["channel"]
        return _json({
            "id": str(1100000000000000100 + len(self.posts)), "channel_id": channel, "type": 0,
            "content": body.get("content") or "", "embeds": body.get("embeds") or [],
            "components": body.get("components") or [], "attachments": [], "mentions": [],
            "mention_roles": [], "pinned": False, "mention_everyone": False, "tts": False,
            "timestamp": "2026-12-01T00:00:00+00:00", "edited_timestamp": None, "flags": 0,
            "author": {"id": BOT_ID, "username": "lorebot", "discriminator": "0", "avatar": None,
                       "bot": True}})


@pytest.fixture
async def stand_in(monkeypatch):
    servers: list[web.AppRunner] = []

    async def start(**kwargs) -> StandInDiscord:
        api = StandInDiscord(**kwargs)
        app = web.Application()
        app.router.add_get("/api/v10/users/@me", api.me)
        app.router.add_get("/api/v10/oauth2/applications/@me", api.application)
        app.router.add_get("/api/v10/users/@me/guilds", api.guilds)
        app.router.add_post("/api/v10/channels/{channel}/messages", api.create_message)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
        servers.append(runner)
        return api

    yield start
    for runner in servers:
        await runner.cleanup()


@pytest.fixture
def core(tmp_path) -> FakeCore:
    return FakeCore(settings=load_settings(_env_file=None, lorebot_data_dir=tmp_path / "data"))


def _answer(core: FakeCore):
    return core.ask("how do we deploy?", channel=ChannelRef("discord", str(CHANNEL_ID)),
                    asker=Actor("discord", "42"))


async def test_a_429_on_an_answer_is_waited_out_and_sent_once(stand_in, core) -> None:
    api = await stand_in(limited=1, retry_after=0.3)
    bot = create_bot(core.settings, core, sync_commands=False)
    await bot.login("x" * 60)
    try:
        channel = bot.get_partial_messageable(CHANNEL_ID)
        answer = _answer(core)
        sent = await send_answer(answer, channel.send, core=core)
    finally:
        await bot.close()
    assert sent is not None
    assert len(api.posts) == 2  # the refused one, then the retry
    (t1, first), (t2, second) = api.posts
    assert t2 - t1 >= 0.3  # retry_after honoured
    assert first == second and "14:00 UTC [1]" in second["embeds"][0]["description"]
    assert core.replies[str(sent.id)] == answer.interaction_id


async def test_a_429_without_discords_header_is_not_retried_and_is_reported(stand_in, core) -> None:
    api = await stand_in(limited=1, retry_after=0.1, via=False)
    bot = create_bot(core.settings, core, sync_commands=False)
    await bot.login("x" * 60)
    try:
        channel = bot.get_partial_messageable(CHANNEL_ID)
        with pytest.raises(discord.HTTPException) as info:
            await send_answer(_answer(core), channel.send, core=core)
    finally:
        await bot.close()
    assert info.value.status == 429 and len(api.posts) == 1
    assert core.replies == {}  # nothing attached for an answer that was not delivered


async def test_doctor_reads_the_bots_permissions_and_intent_flag_from_discord(stand_in) -> None:
    """``lorebot doctor``'s live part through the real HTTP client (same stand-in API)."""
    from adapters.discord.doctor import live_permissions

    await stand_in(limited=0, retry_after=0)
    state = await live_permissions("x" * 60, [12])
    assert state.guilds == {12: ("Ops", discord.Permissions(send_messages=True).value)}
    assert state.message_content_enabled
    everything = await live_permissions("x" * 60, [])
    assert set(everything.guilds) == {11, 12}
