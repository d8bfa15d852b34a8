"""What ``lorebot doctor`` says about Discord: privileged intents and the bot's permissions.

The checks are pure functions over settings and permission bits (unit-tested without a
network); ``live_permissions`` asks Discord for the bot's permissions in its servers when a
token is set and the network allows, and ``report`` turns both into doctor lines.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Need:
    """One permission (a ``discord.Permissions`` flag name) and what it is for."""

    permission: str
    why: str
    required: bool = True


def privileged_intents(settings: Settings) -> list[tuple[str, str]]:
    """(intent, why) for each privileged intent the settings need. Message Content is the only
    one: mentions, thread follow-ups and forum posts' text carry it; DMs to the bot and slash
    commands do not need it, and members/presences are never used."""
    if settings.discord_answer_mentions:
        return [("message_content", "answering @mentions, thread follow-ups and forum posts' text")]
    return []


def needed_permissions(settings: Settings) -> list[Need]:
    needs = [
        Need("view_channel", "seeing the channels it answers in"),
        Need("send_messages", "answering"),
        Need("embed_links", "answers are embeds with their sources"),
        Need("read_message_history", "replying to a question, and votes on older answers"),
    ]
    if settings.discord_answer_mentions:
        needs += [
            Need("create_public_threads", "answering a mention in a thread (else it replies)"),
            Need("send_messages_in_threads", "answering in threads and forum posts"),
        ]
    if settings.discord_forum_answered_tag.strip():
        needs.append(Need("manage_threads", f"tagging answered forum posts "
                                            f"'{settings.discord_forum_answered_tag}'", required=False))
    return needs


def base_permissions(*, everyone: int, roles: list[int], is_owner: bool = False) -> int:
    """A member's server-wide permissions from @everyone's and its roles' bits (Discord's rule:
    the owner and Administrator have everything). Channel overwrites can still take some away."""
    if is_owner:
        return discord.Permissions.all().value
    value = everyone
    for role in roles:
        value |= role
    if value & discord.Permissions(administrator=True).value:
        return discord.Permissions.all().value
    return value


def missing(granted: int, needs: list[Need]) -> list[Need]:
    """The needs ``granted`` (permission bits) does not cover."""
    have = discord.Permissions(granted)
    return [n for n in needs if not getattr(have, n.permission)]


# Application flags: the Message Content intent switched on in the Developer Portal (the
# "limited" flag is what unverified bots under 100 servers get).
_MESSAGE_CONTENT_FLAGS = (1 << 18) | (1 << 19)


@dataclass(frozen=True)
class LiveState:
    """What Discord says: {guild id: (name, the bot's permission bits)}, and the app's flags."""

    guilds: dict[int, tuple[str, int]]
    app_flags: int

    @property
    def message_content_enabled(self) -> bool:
        return bool(self.app_flags & _MESSAGE_CONTENT_FLAGS)


async def live_permissions(token: str, guild_ids: list[int], *,
                           timeout_s: float = 15.0) -> LiveState:
    """The bot's permissions in the servers it is in (only ``guild_ids`` when given) and its
    application flags. Raises on a bad token or no network."""
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    try:
        await asyncio.wait_for(http.static_login(token), timeout_s)
        # GET /users/@me/guilds carries the current user's permissions in each server.
        guilds = await asyncio.wait_for(http.get_guilds(200), timeout_s)
        app = await asyncio.wait_for(http.application_info(), timeout_s)
    finally:
        await http.close()
    wanted = set(guild_ids)
    return LiveState(
        guilds={int(g["id"]): (g.get("name", ""), int(g.get("permissions", 0))) for g in guilds
                if not wanted or int(g["id"]) in wanted},
        app_flags=int(app.get("flags") or 0))


def report(settings: Settings, *, live: bool = True) -> tuple[list[str], list[str]]:
    """(lines to print, problems with their fix) for ``lorebot doctor``."""
    lines: list[str] = []
    problems: list[str] = []
    intents = privileged_intents(settings)
    for intent, why in intents:
        lines.append(f"discord intent {intent} (privileged) needed for {why}")
    enable = ("enable message content in the Discord Developer Portal (Bot > Privileged Gateway "
              "Intents), or set DISCORD_ANSWER_MENTIONS=false")
    state: LiveState | None = None
    if live and settings.has("discord_token"):
        try:
            state = asyncio.run(live_permissions(settings.secret("discord_token"),
                                                 settings.discord_guild_ids))
        except Exception as exc:  # noqa: BLE001 - offline or a bad token: say so, do not fail
            lines.append(f"discord permissions not checked ({type(exc).__name__}: offline or "
                         "the token was refused)")
    if intents and (state is None or not state.message_content_enabled):
        # Unknown offline: the bot would connect and then get empty message texts.
        problems.append(enable if state is None else "message content is OFF: " + enable)
    elif intents:
        lines.append("discord intent message_content is enabled for the application")
    if state is None:
        return lines, problems
    needs = needed_permissions(settings)
    guilds = state.guilds
    for gid in settings.discord_guild_ids:
        if gid not in guilds:
            problems.append(f"the bot is not in Discord server {gid} (DISCORD_GUILD_IDS): invite it")
    for gid, (name, bits) in sorted(guilds.items()):
        lacking = missing(bits, needs)
        if not lacking:
            lines.append(f"discord server {name or gid} ({gid}) permissions ok")
            continue
        words = ", ".join(f"{n.permission} ({n.why})" for n in lacking)
        lines.append(f"discord server {name or gid} ({gid}) lacks {words}")
        if any(n.required for n in lacking):
            problems.append(f"give the bot's role in {name or gid} these permissions: "
                            + ", ".join(n.permission for n in lacking if n.required))
    return lines, problems
