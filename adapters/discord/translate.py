"""Pure translation of discord.py objects and raw payloads into lorebot's neutral types.

No I/O: these functions only read attributes, so they are unit-tested with real discord.py
objects built from payloads. Conventions the rest of the adapter relies on:

* a thread's :class:`ChannelRef` is its *parent* channel (channel scopes are set per channel
  and a thread inherits them) and its id is passed separately as ``thread``;
* a thread lorebot starts on a question has the question message's id (Discord reuses it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import discord

from bot.hygiene import clean_input
from bot.types import Actor, ChannelRef, CommandInfo, IncomingMessage, Reaction

PLATFORM = "discord"
# Discord limits: a slash command or option description is 1 to 100 characters.
_DESCRIPTION_LIMIT = 100


def strip_mentions(text: str, bot_id: int | None, role_ids: tuple[int, ...] = ()) -> str:
    """The question without the ``<@bot>`` (or ``<@&bot role>``) mention that addressed it."""
    text = clean_input(text or "")  # NUL and lone surrogates break the database and the tokenizer
    if bot_id is not None:
        text = re.sub(rf"<@!?{bot_id}>", " ", text)
    for role_id in role_ids:
        text = text.replace(f"<@&{role_id}>", " ")
    return re.sub(r"\s+", " ", text).strip()


def bot_role_ids(message: discord.Message, bot_id: int | None) -> tuple[int, ...]:
    """The mentioned roles that are the bot's own managed role. Typing "@lorebot" in Discord
    often picks the integration's role rather than the bot user, and that means the bot too."""
    if bot_id is None or message.guild is None:
        return ()
    mentioned = set(message.raw_role_mentions)
    if not mentioned:
        return ()
    ids = set()
    self_role = message.guild.self_role
    if self_role is not None and self_role.id in mentioned:
        ids.add(self_role.id)
    for role_id in mentioned:
        role = message.guild.get_role(role_id)
        tags = role.tags if role is not None else None
        if tags is not None and tags.bot_id == bot_id:
            ids.add(role_id)
    return tuple(sorted(ids))


def is_platform_admin(permissions: discord.Permissions | None) -> bool:
    """Discord's own say-so: Manage Server (or Administrator, which implies it)."""
    return bool(permissions and (permissions.manage_guild or permissions.administrator))


def actor(user: discord.abc.User | discord.Object, *,
          permissions: discord.Permissions | None = None) -> Actor:
    return Actor(platform=PLATFORM, user_id=str(user.id),
                 platform_admin=is_platform_admin(permissions))


def channel_and_thread(channel: object) -> tuple[ChannelRef, str | None]:
    """The channel a question belongs to (a thread's parent) and the thread id, if any."""
    if isinstance(channel, discord.Thread):
        return ChannelRef(platform=PLATFORM, id=str(channel.parent_id)), str(channel.id)
    is_dm = isinstance(channel, discord.DMChannel | discord.GroupChannel) or (
        getattr(channel, "guild", None) is None
        and getattr(channel, "type", None) in (discord.ChannelType.private, discord.ChannelType.group)
    )
    return ChannelRef(platform=PLATFORM, id=str(getattr(channel, "id", "")), is_dm=is_dm), None


def incoming_message(message: discord.Message, *, bot_id: int | None) -> IncomingMessage:
    channel, thread = channel_and_thread(message.channel)
    permissions = None
    if isinstance(message.author, discord.Member):
        permissions = message.author.guild_permissions
    roles = bot_role_ids(message, bot_id)
    return IncomingMessage(
        platform=PLATFORM,
        channel=channel,
        user=actor(message.author, permissions=permissions),
        text=strip_mentions(message.content, bot_id, roles),
        message_id=str(message.id),
        thread_id=thread,
        mentioned=bot_id is not None and (bot_id in message.raw_mentions or bool(roles)),
        from_bot=message.author.bot,
        event_id=str(message.id),
    )


def reaction(payload: discord.RawReactionActionEvent) -> Reaction:
    """A :class:`Reaction` from a raw reaction event (whether it is a vote is the core's call)."""
    return Reaction(
        platform=PLATFORM,
        channel=ChannelRef(platform=PLATFORM, id=str(payload.channel_id),
                           is_dm=payload.guild_id is None),
        user=Actor(platform=PLATFORM, user_id=str(payload.user_id)),
        message_id=str(payload.message_id),
        emoji=str(payload.emoji),
        added=payload.event_type == "REACTION_ADD",
    )


def forum_post(thread: discord.Thread, starter: discord.Message | None) -> IncomingMessage:
    """A new forum post as a question: its title, then its first message (which may be empty,
    or not yet delivered, when the post is only a title)."""
    body = starter.content.strip() if starter is not None else ""
    title = thread.name.strip()
    if not body:
        text = title
    elif body.lower().startswith(title.lower()):
        text = body  # the title is the body's first line; asking it twice adds nothing
    else:
        text = f"{title}\n{body}"
    owner = thread.owner_id or (starter.author.id if starter is not None else 0)
    owner_bot = starter is not None and starter.author.bot
    return IncomingMessage(
        platform=PLATFORM,
        channel=ChannelRef(platform=PLATFORM, id=str(thread.parent_id)),
        user=Actor(platform=PLATFORM, user_id=str(owner)),
        text=text,
        message_id=str(thread.id),
        thread_id=str(thread.id),
        from_bot=owner_bot,
        # The post's first message has the thread's id: the same event id as that message, so a
        # post that also mentions lorebot is answered once, by whichever path claims it first.
        event_id=str(thread.id),
    )


def interaction_actor(interaction: discord.Interaction) -> Actor:
    # ``permissions`` is what Discord resolved for this member in this channel; in a DM it
    # has no guild permissions, so nobody is a platform admin there.
    perms = interaction.permissions if interaction.guild_id is not None else None
    return actor(interaction.user, permissions=perms)


def interaction_channel(interaction: discord.Interaction) -> tuple[ChannelRef, str | None]:
    channel = interaction.channel
    if channel is None:
        return ChannelRef(platform=PLATFORM, id=str(interaction.channel_id or ""),
                          is_dm=interaction.guild_id is None), None
    ref, thread = channel_and_thread(channel)
    if interaction.guild_id is None and not ref.is_dm:
        ref = ChannelRef(platform=PLATFORM, id=ref.id, is_dm=True)
    return ref, thread


# Shortcut subcommands Discord has always had: ``/lore reindex`` is the router's ``sources reindex``.
ROUTER_WORDS = {"reindex": "sources reindex"}


@dataclass(frozen=True)
class LoreSubcommand:
    """One ``/lore`` subcommand: a registry group (or a shortcut) with its free-text ``args``."""

    name: str
    description: str
    args_help: str


def _fit(text: str) -> str:
    text = " ".join(text.split()) or "-"
    return text if len(text) <= _DESCRIPTION_LIMIT else text[: _DESCRIPTION_LIMIT - 1].rstrip() + "…"


def _subcommand_for(name: str, specs: list[CommandInfo], prefix: str) -> LoreSubcommand:
    args = [s.usage[len(prefix):].strip() if s.usage.startswith(prefix) else s.usage for s in specs]
    if len(specs) == 1:
        description = specs[0].help
    else:
        description = f"{prefix}: " + " | ".join(s.name[len(prefix):].strip() for s in specs)
    args_help = " | ".join(a for a in args if a) or "no arguments needed"
    return LoreSubcommand(name=name, description=_fit(description), args_help=_fit(args_help))


def lore_subcommands(infos: list[CommandInfo]) -> list[LoreSubcommand]:
    """The ``/lore`` subcommands for the registry's commands: one per group, in registry order,
    then the shortcuts whose target exists. A new registry command appears here by itself."""
    groups: dict[str, list[CommandInfo]] = {}
    for info in infos:
        groups.setdefault(info.group, []).append(info)
    subs = [_subcommand_for(name, specs, name) for name, specs in groups.items()]
    by_name = {info.name: info for info in infos}
    for short, target in ROUTER_WORDS.items():
        if target in by_name and short not in groups:
            subs.append(_subcommand_for(short, [by_name[target]], target))
    return subs


def command_text(subcommand: str, arguments: str | None) -> str:
    """The router's words for a ``/lore`` subcommand: ``/lore sources args:list`` -> ``sources list``,
    ``/lore reindex args:--all`` -> ``sources reindex --all``."""
    words = ROUTER_WORDS.get(subcommand, subcommand)
    return clean_input(f"{words} {(arguments or '').strip()}".strip())


def slash_question(question: str | None) -> str:
    """The ``/ask`` option as a question: NUL bytes and lone surrogates cleaned, trimmed."""
    return clean_input(question or "").strip()


def thread_name(question: str, limit: int = 90) -> str:
    """A thread title from the question (Discord allows 1 to 100 characters)."""
    text = re.sub(r"\s+", " ", question).strip() or "lorebot answer"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
