"""Forum posts lorebot answered: the "answered" tag when the asker says the answer helped."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)


async def tag_answered(client: Any, settings: Settings, *, channel_id: int, user_id: int) -> bool:
    """Apply the forum's ``DISCORD_FORUM_ANSWERED_TAG`` to the post ``channel_id`` when
    ``user_id`` (who voted 👍 on lorebot's answer there) is the person who posted it and the
    forum has a tag by that name. True if a tag was added."""
    name = settings.discord_forum_answered_tag.strip().lower()
    thread = client.get_channel(channel_id) if name else None
    if not isinstance(thread, discord.Thread):
        return False
    forum = thread.parent
    if not isinstance(forum, discord.ForumChannel) or thread.owner_id != user_id:
        return False
    tag = next((t for t in forum.available_tags if t.name.strip().lower() == name), None)
    if tag is None or any(t.id == tag.id for t in thread.applied_tags):
        return False
    try:
        await thread.add_tags(tag, reason="the asker marked lorebot's answer helpful")
    except discord.HTTPException as exc:
        # Moderated tags (and posts not owned by the bot) need Manage Threads; doctor says so.
        log.info("could not tag the forum post as answered (%s)", exc.status,
                 extra={"thread_id": thread.id})
        return False
    return True
