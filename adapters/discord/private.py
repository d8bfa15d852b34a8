"""Admin output that stays private: every piece ephemeral, and by DM once the interaction's
token has expired.

An interaction token lasts 15 minutes. A long result's later pieces and a long command's
"finished" report may come after that; they are sent to the person by DM, never into the
channel (admin output can name private sources). Each piece is ephemeral explicitly: after an
ephemeral deferral only the first follow-up inherits the privacy, later ones do not.
"""

from __future__ import annotations

import datetime as dt
import logging

import discord

log = logging.getLogger(__name__)

TOKEN_LIFETIME = dt.timedelta(minutes=15)
# Leave a margin: a follow-up sent at 14:59 can arrive after the token died.
_MARGIN = dt.timedelta(seconds=30)


def token_expired(created_at: dt.datetime, now: dt.datetime | None = None) -> bool:
    now = now or dt.datetime.now(dt.UTC)
    return now - created_at >= TOKEN_LIFETIME - _MARGIN


class PrivateReplies:
    """Send pieces privately to whoever ran ``interaction``; switches to DM for good once the
    token is (or is found to be) expired."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.by_dm = False

    async def send(self, piece: str) -> bool:
        """True if the piece reached the person (ephemerally or by DM)."""
        if not self.by_dm and token_expired(self.interaction.created_at):
            self.by_dm = True
        if not self.by_dm:
            try:
                await self.interaction.followup.send(piece, ephemeral=True)
                return True
            except (discord.NotFound, discord.Forbidden) as exc:
                # 401/404 "Invalid Webhook Token": the token expired early (or a clock is off).
                log.info("interaction token no longer valid (%s); replying by DM", exc.status)
                self.by_dm = True
            except discord.HTTPException as exc:
                if exc.status != 401:
                    raise
                self.by_dm = True
        try:
            await self.interaction.user.send(piece)
            return True
        except discord.HTTPException as exc:
            # DMs closed for this server: the result is in the audit log, not in the channel.
            log.warning("could not DM an admin command's result (%s)", exc.status,
                        extra={"channel_id": self.interaction.channel_id})
            return False
