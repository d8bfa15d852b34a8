"""``create_bot``: a configured discord.py bot for lorebot.

Intents (only what is used; nothing privileged unless answering messages is on):

* ``guilds`` - guild, channel and thread cache, needed for slash commands and threads;
* ``guild_messages`` + ``message_content`` - only when ``DISCORD_ANSWER_MENTIONS`` is on:
  mentions and thread follow-ups (follow-ups carry no mention, so their text needs the
  privileged Message Content intent, which must also be enabled in the Developer Portal);
* ``dm_messages`` - only when ``DISCORD_ANSWER_DMS`` is on (DM text needs no privileged intent);
* ``guild_reactions`` / ``dm_reactions`` - 👍 / 👎 votes on answers.

``members`` and ``presences`` are never requested.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from adapters.discord.cogs import SAFE_MENTIONS, LoreCog, LoreTree
from adapters.discord.views import ShareButton, VoteButton

if TYPE_CHECKING:
    from bot.ports import Core
    from bot.settings import Settings

log = logging.getLogger(__name__)


def intents_for(settings: Settings) -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_reactions = True
    if settings.discord_answer_mentions:
        intents.guild_messages = True
        intents.message_content = True
    if settings.discord_answer_dms:
        intents.dm_messages = True
        intents.dm_reactions = True
    return intents


class _LoreBotMixin:
    """What lorebot adds to discord.py's Bot; mixed into the plain and the sharded class."""

    settings: Settings
    _core: Core | None
    sync_commands: bool

    @property
    def core(self) -> Core | None:
        return self._core

    async def setup_hook(self) -> None:
        if self._core is None:
            # Opening the database may start the embedded server and run migrations: off-loop.
            from bot.ports import default_core

            self._core = await asyncio.to_thread(default_core, self.settings)
        await self.add_cog(LoreCog(self))  # type: ignore[arg-type]
        self.add_dynamic_items(VoteButton, ShareButton)  # type: ignore[attr-defined]
        if self.sync_commands:
            await sync_application_commands(self, self.settings.discord_guild_ids)  # type: ignore[arg-type]

    async def on_message(self, message: discord.Message) -> None:
        # No prefix commands: skip discord.py's command parsing (the cog answers messages).
        return

    async def on_ready(self) -> None:
        user = self.user  # type: ignore[attr-defined]
        log.info("connected to Discord", extra={"bot_user_id": getattr(user, "id", None),
                                                 "guilds": len(self.guilds)})  # type: ignore[attr-defined]


class LoreDiscordBot(_LoreBotMixin, commands.Bot):
    pass


class ShardedLoreDiscordBot(_LoreBotMixin, commands.AutoShardedBot):
    pass


async def sync_application_commands(bot: commands.Bot, guild_ids: list[int]) -> None:
    """Per guild when ``DISCORD_GUILD_IDS`` is set (instant, for iteration), else globally
    (production; Discord may take up to an hour to show changes everywhere)."""
    try:
        if guild_ids:
            for gid in guild_ids:
                guild = discord.Object(id=gid)
                bot.tree.copy_global_to(guild=guild)
                synced = await bot.tree.sync(guild=guild)
                log.info("synced slash commands to guild", extra={"guild_id": gid, "count": len(synced)})
        else:
            synced = await bot.tree.sync()
            log.info("synced slash commands globally", extra={"count": len(synced)})
    except (discord.HTTPException, NotImplementedError) as exc:
        # The bot still answers mentions and DMs; slash commands appear after a later sync.
        log.warning("could not sync slash commands (%s); check the bot was invited with the "
                    "applications.commands scope", type(exc).__name__)


def create_bot(settings: Settings | None = None, core: Core | None = None, *,
               sync_commands: bool = True) -> commands.Bot:
    """A configured bot; settings from the environment when omitted, core built at login."""
    if settings is None:
        from bot.settings import get_settings

        settings = get_settings()
    cls = ShardedLoreDiscordBot if settings.discord_sharded else LoreDiscordBot
    bot = cls(
        command_prefix=commands.when_mentioned,
        intents=intents_for(settings),
        help_command=None,
        tree_cls=LoreTree,
        allowed_mentions=SAFE_MENTIONS,
    )
    bot.settings = settings
    bot._core = core
    bot.sync_commands = sync_commands
    return bot
