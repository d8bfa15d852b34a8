"""The 👍 / 👎 buttons under an answer, working across restarts.

Each button's ``custom_id`` carries the vote and the answer's interaction id
(``lore:vote:+1:<uuid>``), so a click needs no in-memory state. The buttons are
:class:`discord.ui.DynamicItem` s registered once with ``bot.add_dynamic_items`` in
``setup_hook``: unlike ``bot.add_view(view)``, which only routes the exact custom ids of one
registered view, a dynamic item routes *every* id matching its template, so buttons on answers
sent before a restart (each with its own uuid) keep working without re-registering views.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from typing import Any

import discord

from adapters.discord import translate
from adapters.discord.forum import tag_answered

log = logging.getLogger(__name__)

CUSTOM_ID = "lore:vote:{value}:{interaction_id}"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_TEMPLATE = rf"lore:vote:(?P<value>[+-]1):(?P<interaction_id>{_UUID})"


def custom_id(value: int, interaction_id: uuid.UUID) -> str:
    return CUSTOM_ID.format(value="+1" if value > 0 else "-1", interaction_id=interaction_id)


def parse_custom_id(text: str) -> tuple[int, uuid.UUID] | None:
    match = re.fullmatch(_TEMPLATE, text)
    if match is None:
        return None
    return int(match["value"]), uuid.UUID(match["interaction_id"])


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=_TEMPLATE):
    def __init__(self, value: int, interaction_id: uuid.UUID) -> None:
        self.value = 1 if value > 0 else -1
        self.interaction_id = interaction_id
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji="👍" if self.value > 0 else "👎",
                label="Helpful" if self.value > 0 else "Not helpful",
                custom_id=custom_id(self.value, interaction_id),
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(int(match["value"]), uuid.UUID(match["interaction_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        core = getattr(interaction.client, "core", None)
        if core is None:
            await interaction.response.send_message("lorebot is still starting; try again in a moment.",
                                                    ephemeral=True)
            return
        voter = translate.interaction_actor(interaction)
        try:
            recorded = await asyncio.to_thread(
                core.vote, user=voter, value=self.value, signal="button",
                interaction_id=self.interaction_id,
            )
        except Exception:
            log.exception("recording a button vote failed")
            recorded = False
        if recorded:
            text = "Thanks: noted as helpful." if self.value > 0 else (
                "Thanks: noted as not helpful. An admin can see it in `/lore gaps`.")
        else:
            text = "Sorry, that answer is no longer on record, so the vote was not saved."
        await interaction.response.send_message(text, ephemeral=True)
        # After the reply (Discord wants one within 3 seconds): the asker's 👍 in a forum post.
        if recorded and self.value > 0 and interaction.channel_id is not None:
            settings = getattr(interaction.client, "settings", None)
            if settings is not None:
                await tag_answered(interaction.client, settings, channel_id=interaction.channel_id,
                                   user_id=interaction.user.id)


class FeedbackView(discord.ui.View):
    """The buttons for one answer. ``timeout=None``: they never expire."""

    def __init__(self, interaction_id: uuid.UUID) -> None:
        super().__init__(timeout=None)
        self.add_item(VoteButton(1, interaction_id))
        self.add_item(VoteButton(-1, interaction_id))


SHARE_ID = "lore:share:{interaction_id}"
_SHARE_TEMPLATE = rf"lore:share:(?P<interaction_id>{_UUID})"
# Shared answers quote documents: nobody is pinged, not even the person sharing.
_NO_MENTIONS = discord.AllowedMentions.none()


class ShareButton(discord.ui.DynamicItem[discord.ui.Button], template=_SHARE_TEMPLATE):
    """"Share" under a private (ephemeral) answer: posts the same answer in the channel.

    Stateless like the vote buttons: Discord sends the clicked message along with the click,
    so its embed is copied from there, and the custom id carries the answer's interaction id
    (the public copy gets the vote buttons, and reactions on it count)."""

    def __init__(self, interaction_id: uuid.UUID) -> None:
        self.interaction_id = interaction_id
        super().__init__(
            discord.ui.Button(style=discord.ButtonStyle.primary, label="Share in channel",
                              custom_id=SHARE_ID.format(interaction_id=interaction_id))
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ShareButton:
        return cls(uuid.UUID(match["interaction_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        message = interaction.message
        if message is None or not message.embeds:
            await interaction.response.send_message("Sorry, that answer can no longer be shared.",
                                                    ephemeral=True)
            return
        view = discord.ui.View(timeout=None)
        view.add_item(VoteButton(1, self.interaction_id))
        view.add_item(VoteButton(-1, self.interaction_id))
        sent = await interaction.response.send_message(
            content=f"Shared by {interaction.user.mention}", embeds=message.embeds, view=view,
            allowed_mentions=_NO_MENTIONS)
        core = getattr(interaction.client, "core", None)
        public_id = getattr(sent, "message_id", None)
        if core is None or public_id is None:
            log.info("shared answer's message id unknown; reactions on it will not count")
            return
        try:
            # Reactions on the public copy are votes on the same answer.
            await asyncio.to_thread(core.attach_reply, interaction_id=self.interaction_id,
                                    reply_ref=str(public_id))
        except Exception:  # noqa: BLE001 - the answer is shared; only its reactions would not count
            log.warning("could not remember the shared answer's message", exc_info=True)


def answer_view(interaction_id: uuid.UUID, *, share: bool) -> discord.ui.View:
    """The buttons under an answer: votes, plus "Share in channel" for a private answer."""
    view = FeedbackView(interaction_id)
    if share:
        view.add_item(ShareButton(interaction_id))
    return view
