"""Errors the libraries raise that the bot reports as configuration problems.

``bot.settings.ConfigError`` is this class, so a library error (say, an embedding model that does
not match the stored vectors) is caught wherever the bot catches a bad configuration, while the
libraries never import the bot.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting or the environment is wrong; the message says what to change."""
