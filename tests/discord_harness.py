"""Driving the real discord.py bot offline: dpytest plus the workarounds it needs.

Everything here works around gaps in the *test tool*, not in the bot, and lives in this one
module so it can shrink when dpytest catches up:

* reactions: dpytest's reaction payloads lack ``type`` and ``burst``, which discord.py >= 2.4
  requires (``KeyError: 'type'``; upstream issue CraftSpider/dpytest#129). The connection
  state's reaction parsers are wrapped to fill them in;
* threads: dpytest's fake HTTP client has no "start thread from message" route; it is added
  here, creating the thread the way Discord does (same id as the message, THREAD_CREATE);
* slash commands and buttons: dpytest has no interaction support. Payloads are fed to
  ``state.parse_interaction_create`` and the interaction callback / follow-up webhook calls
  are captured by patching ``AsyncWebhookAdapter``;
* command sync: the bulk-upsert routes are recorded instead of failing;
* members: dpytest's fake guild needs the member cache (members intent) to resolve mentions;
* its fake state loses the event loop, and its default @everyone role predates threads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

import discord
import discord.ext.test as dpytest
import pytest
from discord.ext.test import backend as dpy_backend
from discord.ext.test import factories as dpy_facts
from discord.webhook.async_ import AsyncWebhookAdapter

APPLICATION_ID = 1_000_000_000_000_000_001
_ids = itertools.count(1_200_000_000_000_000_000)
_low_bits = itertools.cycle(range(1, 1 << 22))


def snowflake() -> int:
    return next(_ids)


@dataclass
class Captured:
    """What the bot said back to interactions, in order."""

    callbacks: list[dict[str, Any]] = field(default_factory=list)  # type + data
    callback_message_ids: list[int] = field(default_factory=list)  # 0: no message created
    followups: list[dict[str, Any]] = field(default_factory=list)  # webhook payloads
    followup_ids: list[int] = field(default_factory=list)
    synced: list[tuple[int | None, list[dict]]] = field(default_factory=list)  # (guild, commands)
    threads: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # channel message payloads
    edits: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (message id, payload)
    followup_edits: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    tags_added: list[tuple[int, list[int]]] = field(default_factory=list)  # (thread, tag ids)


def _patch_reactions(state: Any) -> None:
    # CraftSpider/dpytest#129: reaction payloads lack 'type' and 'burst' (discord.py >= 2.4).
    for name in ("parse_message_reaction_add", "parse_message_reaction_remove"):
        original = getattr(state, name)

        def fixed(data: dict, _original=original) -> None:
            data.setdefault("type", 0)
            data.setdefault("burst", False)
            data.setdefault("burst_colors", [])
            _original(data)

        setattr(state, name, fixed)


def _patch_threads(http: Any, state: Any, captured: Captured) -> None:
    async def start_thread_with_message(channel_id, message_id, *, name, auto_archive_duration,
                                        rate_limit_per_user=None, reason=None):
        channel = state.get_channel(int(channel_id))
        now = dt.datetime.now(dt.UTC).isoformat()
        data = {
            "id": str(message_id), "guild_id": str(channel.guild.id), "parent_id": str(channel_id),
            "owner_id": str(state.user.id), "name": name, "type": 11, "message_count": 0,
            "member_count": 1, "rate_limit_per_user": rate_limit_per_user or 0,
            "last_message_id": None, "newly_created": True,
            "thread_metadata": {"archived": False, "auto_archive_duration": auto_archive_duration,
                                "archive_timestamp": now, "locked": False},
        }
        captured.threads.append(data)
        state.parse_thread_create(data)
        return data

    http.start_thread_with_message = start_thread_with_message


def _record_sends(http: Any, captured: Captured) -> None:
    # dpytest's fake message drops message_reference (replies); keep the payloads to check.
    original = http.send_message

    async def send_message(channel_id, *, params):
        captured.messages.append(dict(params.payload or {}, channel_id=int(channel_id)))
        # dpytest reads ``channel`` from its caller's frame, which is now this one.
        channel = http.state.get_channel(int(channel_id))  # noqa: F841
        return await original(channel_id, params=params)

    http.send_message = send_message


def _record_edits(captured: Captured) -> None:
    # dpytest's own edit route finds the message from its caller's frame; a callback keeps it.
    async def edited(channel: Any, message: Any, fields: dict) -> None:
        captured.edits.append((message.id, dict(fields["params"].payload or {})))

    dpytest.callbacks.set_callback(edited, "edit_message")


def _patch_forum_tags(http: Any, state: Any, captured: Captured) -> None:
    # dpytest has no "modify thread" route (used to apply forum tags).
    original = http.edit_channel

    async def edit_channel(channel_id, *, reason=None, **options):
        if "applied_tags" not in options:
            return await original(channel_id, reason=reason, **options)
        thread = state._get_guild_channel({"channel_id": channel_id}, None)
        thread = state.get_channel(int(channel_id)) if thread is None else thread
        captured.tags_added.append((int(channel_id), [int(t) for t in options["applied_tags"]]))
        thread._applied_tags = discord.utils.SnowflakeList([int(t) for t in options["applied_tags"]])
        return {"id": str(channel_id), "type": 11, "guild_id": str(thread.guild.id),
                "parent_id": str(thread.parent_id), "name": thread.name, "owner_id": str(thread.owner_id),
                "applied_tags": [str(t) for t in options["applied_tags"]],
                "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                    "archive_timestamp": dt.datetime.now(dt.UTC).isoformat(),
                                    "locked": False}}

    http.edit_channel = edit_channel


def _patch_sync(http: Any, captured: Captured) -> None:
    async def bulk_upsert_global_commands(application_id, payload):
        captured.synced.append((None, payload))
        # Discord answers with every field; a message menu has an empty description.
        return [dict({"description": ""}, **p, id=str(snowflake()),
                     application_id=str(application_id), version="1") for p in payload]

    async def bulk_upsert_guild_commands(application_id, guild_id, payload):
        captured.synced.append((int(guild_id), payload))
        return [dict({"description": ""}, **p, id=str(snowflake()),
                     application_id=str(application_id), guild_id=str(guild_id), version="1")
                for p in payload]

    http.bulk_upsert_global_commands = bulk_upsert_global_commands
    http.bulk_upsert_guild_commands = bulk_upsert_guild_commands


class DiscordEnv:
    """A configured bot on dpytest's fake guild, plus helpers to act as Discord would."""

    def __init__(self, bot: Any, captured: Captured) -> None:
        self.bot = bot
        self.captured = captured
        cfg = dpytest.get_config()
        self.guild: discord.Guild = cfg.guilds[0]
        self.channel: discord.TextChannel = cfg.channels[0]
        self.member: discord.Member = cfg.members[0]

    @property
    def state(self) -> Any:
        return self.bot._connection

    async def settle(self) -> None:
        """Wait for the bot's event handlers (and the threads they started) to finish."""
        # Event handlers, the command tree and button dispatch all run as their own tasks.
        for _ in range(100):
            # discord.py times out the buttons of an ephemeral message after 15 minutes with a
            # sleeping task per view: a timer, not work the bot is doing.
            pending = [t for t in asyncio.all_tasks()
                       if t is not asyncio.current_task() and not t.done()
                       and "timeout_task" not in t.get_coro().__qualname__]
            if not pending:
                return
            await asyncio.wait(pending, timeout=30)
        raise AssertionError("bot tasks did not finish")

    def sent(self) -> list[discord.Message]:
        out = []
        while not dpytest.runner.sent_queue.empty():
            out.append(dpytest.runner.sent_queue.get_nowait())
        return out

    async def deny_everyone(self, *permissions: str) -> None:
        """Take permissions (e.g. ``create_public_threads``) from @everyone, the bot included.

        (dpytest writes member overwrites in a shape discord.py 2.x does not apply, so the
        server-wide role is changed instead.)"""
        role = self.guild.default_role
        denied = discord.Permissions(**dict.fromkeys(permissions, True)).value
        dpy_backend.update_role(role, permissions=role.permissions.value & ~denied)

    def mention(self) -> str:
        return f"<@{self.bot.user.id}>"

    async def add_member(self, name: str, *, manage_guild: bool = False) -> discord.Member:
        member = await dpytest.member_join(0, name=name)
        if manage_guild:
            role = dpy_backend.make_role("Admins", self.guild,
                                         permissions=discord.Permissions(manage_guild=True).value)
            await dpytest.add_role(member, role)
        return member

    # --- interactions ---
    def _member_payload(self, member: discord.Member, permissions: discord.Permissions) -> dict:
        data = dpy_facts.dict_from_member(member)
        data["permissions"] = str(permissions.value)
        return data

    def interaction_payload(self, *, type_: int, data: dict, member: discord.Member | None = None,
                            permissions: discord.Permissions | None = None,
                            channel: discord.abc.GuildChannel | discord.Thread | None = None,
                            message: dict | None = None,
                            created_at: dt.datetime | None = None) -> dict:
        member = member or self.member
        channel = channel or self.channel
        perms = permissions if permissions is not None else discord.Permissions(send_messages=True)
        # An interaction's id is a snowflake: it says when Discord created it (and so when its
        # 15-minute token expires).
        iid = discord.utils.time_snowflake(created_at or dt.datetime.now(dt.UTC)) + next(_low_bits)
        payload = {
            "id": str(iid), "application_id": str(APPLICATION_ID), "type": type_,
            "token": f"tok-{snowflake()}", "version": 1, "data": data,
            "guild_id": str(self.guild.id), "channel_id": str(channel.id),
            "channel": {"id": str(channel.id), "type": channel.type.value,
                        "guild_id": str(self.guild.id), "name": channel.name,
                        **({"parent_id": str(channel.parent_id)}
                           if isinstance(channel, discord.Thread) else {})},
            "member": self._member_payload(member, perms),
            "app_permissions": str(discord.Permissions.all().value), "locale": "en-US",
            "guild_locale": "en-US", "entitlements": [], "authorizing_integration_owners": {},
            "attachment_size_limit": 8 * 1024 * 1024,
        }
        if message is not None:
            payload["message"] = message
        return payload

    async def slash(self, name: str, options: list[dict] | None = None, **kwargs: Any) -> None:
        """Invoke ``/name`` (options as Discord sends them) and wait for the handler."""
        data = {"id": str(snowflake()), "name": name, "type": 1, "options": options or []}
        self.state.parse_interaction_create(self.interaction_payload(type_=2, data=data, **kwargs))
        await self.settle()

    async def autocomplete(self, name: str, options: list[dict], **kwargs: Any) -> dict:
        """Discord asking for choices while ``/name`` is typed (options with one ``focused``);
        returns the choices callback the bot sent."""
        data = {"id": str(snowflake()), "name": name, "type": 1, "options": options}
        before = len(self.captured.callbacks)
        self.state.parse_interaction_create(self.interaction_payload(type_=4, data=data, **kwargs))
        await self.settle()
        [callback] = self.captured.callbacks[before:]
        return callback

    def message_payload(self, message: discord.Message) -> dict:
        data = dpy_facts.dict_from_message(message)
        data.setdefault("channel_id", str(message.channel.id))
        return data

    async def message_command(self, name: str, message: discord.Message, **kwargs: Any) -> None:
        """Use the message menu (Apps > ``name``) on ``message``: Discord sends the message along."""
        data = {"id": str(snowflake()), "name": name, "type": 3, "target_id": str(message.id),
                "resolved": {"messages": {str(message.id): self.message_payload(message)}}}
        self.state.parse_interaction_create(self.interaction_payload(type_=2, data=data, **kwargs))
        await self.settle()

    async def forum(self, name: str, *, tags: tuple[str, ...] = ()) -> discord.ForumChannel:
        data = {"id": str(snowflake()), "type": 15, "guild_id": str(self.guild.id), "name": name,
                "position": 1, "permission_overwrites": [], "nsfw": False, "parent_id": None,
                "available_tags": [{"id": str(snowflake()), "name": t, "moderated": False,
                                    "emoji_id": None, "emoji_name": None} for t in tags]}
        self.state.parse_channel_create(data)
        forum = self.guild.get_channel(int(data["id"]))
        assert isinstance(forum, discord.ForumChannel)
        return forum

    async def forum_post(self, forum: discord.ForumChannel, title: str, body: str, *,
                         member: discord.Member | None = None) -> discord.Thread:
        """A new post: THREAD_CREATE (a thread whose id is also its first message's), then
        that first message, as Discord sends them."""
        member = member or self.member
        tid = snowflake()
        now = dt.datetime.now(dt.UTC).isoformat()
        self.state.parse_thread_create({
            "id": str(tid), "guild_id": str(self.guild.id), "parent_id": str(forum.id),
            "owner_id": str(member.id), "name": title, "type": 11, "message_count": 0,
            "member_count": 1, "rate_limit_per_user": 0, "last_message_id": str(tid),
            "newly_created": True, "applied_tags": [],
            "thread_metadata": {"archived": False, "auto_archive_duration": 1440,
                                "archive_timestamp": now, "locked": False}})
        thread = self.guild.get_thread(tid)
        message = dpy_backend.make_message(body, member, thread, id_num=tid)
        del message  # in dpytest's store (fetch_message finds it) and the gateway queue
        await self.settle()
        return thread

    async def click(self, custom_id: str, *, message_id: int, sent: dict | None = None,
                    **kwargs: Any) -> None:
        """Press a button with ``custom_id`` on the bot's follow-up message ``message_id`` (or
        on a channel message whose payload is ``sent``).

        Discord sends the clicked message (with its components) along; discord.py finds the
        button there before handing it to the registered dynamic item."""
        if sent is None:
            sent = self.captured.followups[self.captured.followup_ids.index(message_id)]
        message = {"id": str(message_id), "channel_id": str(self.channel.id), "type": 0,
                   "content": "", "author": dpy_facts.dict_from_user(self.bot.user),
                   "attachments": [], "embeds": sent.get("embeds") or [], "mentions": [],
                   "mention_roles": [], "pinned": False, "mention_everyone": False, "tts": False,
                   "timestamp": dt.datetime.now(dt.UTC).isoformat(), "edited_timestamp": None,
                   "flags": sent.get("flags", 0), "components": sent.get("components") or []}
        data = {"custom_id": custom_id, "component_type": 2}
        self.state.parse_interaction_create(
            self.interaction_payload(type_=3, data=data, message=message, **kwargs))
        await self.settle()

    async def react(self, member: discord.abc.User, message_id: int, emoji: str, *,
                    added: bool = True, channel: discord.abc.GuildChannel | None = None) -> None:
        """A raw reaction event, as Discord sends it for any message (cached or not)."""
        channel = channel or self.channel
        data = {"message_id": str(message_id), "channel_id": str(channel.id),
                "guild_id": str(self.guild.id), "user_id": str(member.id),
                "emoji": {"id": None, "name": emoji}}
        if added and isinstance(member, discord.Member):
            data["member"] = dpy_facts.dict_from_member(member)
        parser = (self.state.parse_message_reaction_add if added
                  else self.state.parse_message_reaction_remove)
        parser(data)
        await self.settle()


def _fake_webhook_message(payload: dict | None, channel_id: int, bot_user: Any, mid: int) -> dict:
    payload = payload or {}
    return {
        "id": str(mid), "channel_id": str(channel_id), "type": 0,
        "content": payload.get("content") or "", "embeds": payload.get("embeds") or [],
        "components": payload.get("components") or [], "attachments": [], "mentions": [],
        "mention_roles": [], "pinned": False, "mention_everyone": False, "tts": False,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(), "edited_timestamp": None,
        "flags": payload.get("flags", 0), "author": dpy_facts.dict_from_user(bot_user),
        "webhook_id": str(APPLICATION_ID),
    }


@pytest.fixture
async def discord_env(monkeypatch: pytest.MonkeyPatch):
    """A factory: ``env = await discord_env(bot)`` configures ``bot`` on a fake guild."""
    started: list[DiscordEnv] = []
    captured = Captured()

    async def create_interaction_response(self, interaction_id, token, *, session, proxy=None,
                                          proxy_auth=None, params):
        payload = params.payload or {}
        captured.callbacks.append(payload)
        # Discord says which message a type-4 response created (``with_response``).
        created = {"response_message_id": str(snowflake())} if payload.get("type") == 4 else {}
        captured.callback_message_ids.append(int(created.get("response_message_id", 0)))
        return {"interaction": {"id": str(interaction_id), "type": payload.get("type"), **created,
                                "response_message_loading": payload.get("type") == 5,
                                "response_message_ephemeral": bool(
                                    (payload.get("data") or {}).get("flags", 0) & 64)}}

    async def execute_webhook(self, webhook_id, token, *, session, proxy=None, proxy_auth=None,
                              payload=None, multipart=None, files=None, thread_id=None,
                              wait=False, with_components=False):
        captured.followups.append(payload or {})
        env = started[-1]
        mid = snowflake()
        captured.followup_ids.append(mid)
        return _fake_webhook_message(payload, env.channel.id, env.bot.user, mid) if wait else None

    async def edit_webhook_message(self, webhook_id, token, message_id, *, session, proxy=None,
                                   proxy_auth=None, payload=None, multipart=None, files=None,
                                   thread_id=None, **_):
        captured.followup_edits.append((int(message_id), payload or {}))
        env = started[-1]
        return _fake_webhook_message(payload, env.channel.id, env.bot.user, int(message_id))

    monkeypatch.setattr(AsyncWebhookAdapter, "edit_webhook_message", edit_webhook_message)
    monkeypatch.setattr(AsyncWebhookAdapter, "create_interaction_response", create_interaction_response)
    monkeypatch.setattr(AsyncWebhookAdapter, "execute_webhook", execute_webhook)

    async def start(bot: Any, *, members: int = 1) -> DiscordEnv:
        await bot._async_setup_hook()
        # dpytest builds its fake guild through the member cache, which discord.py keeps only
        # with the members intent; the bot never asks for it (see adapters/discord/bot.py).
        bot._connection._intents.members = True
        bot._connection.member_cache_flags = discord.MemberCacheFlags.from_intents(bot.intents)
        dpytest.configure(bot, members=members)
        state = bot._connection
        # dpytest's fake state loses the event loop (typing indicators need it).
        state.loop = asyncio.get_running_loop()
        # dpytest's default @everyone predates threads; give everyone Discord's current
        # default text permissions (threads included), as a new server has.
        guild = dpytest.get_config().guilds[0]
        dpy_backend.update_role(guild.default_role,
                                permissions=(discord.Permissions.text()
                                             | discord.Permissions.general()).value
                                & ~discord.Permissions(manage_guild=True, administrator=True,
                                                       manage_channels=True, manage_roles=True,
                                                       manage_messages=True, manage_threads=True,
                                                       manage_webhooks=True,
                                                       manage_expressions=True,
                                                       view_audit_log=True,
                                                       view_guild_insights=True).value)
        # dpytest's fake state drops the command tree and the application id.
        state._command_tree = bot.tree
        bot.tree._http = bot.http
        state.application_id = APPLICATION_ID
        bot._application = None
        _patch_reactions(state)
        _patch_threads(bot.http, state, captured)
        _record_sends(bot.http, captured)
        _patch_sync(bot.http, captured)
        _record_edits(captured)
        _patch_forum_tags(bot.http, state, captured)
        await bot.setup_hook()
        env = DiscordEnv(bot, captured)
        started.append(env)
        return env

    yield start
    await dpytest.empty_queue()
