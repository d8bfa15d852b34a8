"""Pure translation of discord.py objects and raw payloads into lorebot's neutral types.

No I/O: these functions only read attributes, so they are unit-tested with real discord.py
objects built from payloads. Conventions the rest of the adapter relies on:

* a thread's :class:`ChannelRef` is its *parent* channel (channel scopes are set per channel
  and a thread inherits them) and its id is passed separately as ``thread``;
* a thread lorebot starts on a question has the question message's id (Discord reuses it).
"""

from __future__ import annotations

import re

import discord

from bot.hygiene import clean_input
from bot.types import Actor, ChannelRef, IncomingMessage, Reaction

PLATFORM = "discord"

UPVOTE = {"👍", "✅", "⬆️"}
DOWNVOTE = {"👎", "⬇️"}
# Skin tones and the emoji presentation selector do not change what a vote means.
_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")


def vote_value(emoji: str) -> int | None:
    """+1 for 👍 (any skin tone), -1 for 👎, None for any other emoji."""
    bare = _MODIFIERS.sub("", emoji)
    if bare in {_MODIFIERS.sub("", e) for e in UPVOTE}:
        return 1
    if bare in {_MODIFIERS.sub("", e) for e in DOWNVOTE}:
        return -1
    return None


def strip_mentions(text: str, bot_id: int | None) -> str:
    """The question without the ``<@bot>`` mention that addressed it."""
    text = clean_input(text or "")  # NUL and lone surrogates break the database and the tokenizer
    if bot_id is not None:
        text = re.sub(rf"<@!?{bot_id}>", " ", text)
    return re.sub(r"\s+", " ", text).strip()


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
    return IncomingMessage(
        platform=PLATFORM,
        channel=channel,
        user=actor(message.author, permissions=permissions),
        text=strip_mentions(message.content, bot_id),
        message_id=str(message.id),
        thread_id=thread,
        mentioned=bot_id is not None and bot_id in message.raw_mentions,
        from_bot=message.author.bot,
        event_id=str(message.id),
    )


def reaction(payload: discord.RawReactionActionEvent) -> Reaction | None:
    """A vote-shaped :class:`Reaction` from a raw reaction event; None for other emoji."""
    value = vote_value(str(payload.emoji))
    if value is None:
        return None
    return Reaction(
        platform=PLATFORM,
        channel=ChannelRef(platform=PLATFORM, id=str(payload.channel_id),
                           is_dm=payload.guild_id is None),
        user=Actor(platform=PLATFORM, user_id=str(payload.user_id)),
        message_id=str(payload.message_id),
        emoji="+1" if value > 0 else "-1",
        added=payload.event_type == "REACTION_ADD",
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


# Discord gives reindexing its own subcommand; the router files it under ``sources``.
_ROUTER_WORDS = {"reindex": "sources reindex"}


def command_text(subcommand: str, arguments: str | None) -> str:
    """The router's words for a ``/lore`` subcommand: ``/lore sources args:list`` -> ``sources list``,
    ``/lore reindex args:--all`` -> ``sources reindex --all``."""
    words = _ROUTER_WORDS.get(subcommand, subcommand)
    return clean_input(f"{words} {(arguments or '').strip()}".strip())


def slash_question(question: str | None) -> str:
    """The ``/ask`` option as a question: NUL bytes and lone surrogates cleaned, trimmed."""
    return clean_input(question or "").strip()


def thread_name(question: str, limit: int = 90) -> str:
    """A thread title from the question (Discord allows 1 to 100 characters)."""
    text = re.sub(r"\s+", " ", question).strip() or "lorebot answer"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
