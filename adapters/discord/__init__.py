"""Discord adapter: ``create_bot(settings=None, core=None)`` builds the discord.py bot.

discord.py is imported only inside this package.
"""

from adapters.discord.bot import create_bot

__all__ = ["create_bot"]
