"""Running the Discord bot from ``lorebot serve``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from adapters.discord.bot import create_bot

if TYPE_CHECKING:
    from discord.ext import commands

    from bot.ports import Core
    from bot.settings import Settings

log = logging.getLogger(__name__)


async def start_discord(settings: Settings, core: Core | None) -> commands.Bot:
    """Log in and stay connected until ``bot.close()``; for a server already running a loop.

    The token is read here, so a missing or placeholder ``DISCORD_TOKEN`` fails with a
    ConfigError naming the variable, before any connection is attempted.
    """
    token = settings.secret("discord_token")
    bot = create_bot(settings, core)
    try:
        await bot.start(token)
    finally:
        if not bot.is_closed():
            await bot.close()
    return bot


def run_discord(settings: Settings, core: Core | None) -> None:
    """Blocking: connect and serve until interrupted (``lorebot serve`` with only Discord)."""
    token = settings.secret("discord_token")
    bot = create_bot(settings, core)
    # log_handler=None: lorebot's own logging config (JSON or text) handles discord.py's logs.
    bot.run(token, log_handler=None)
