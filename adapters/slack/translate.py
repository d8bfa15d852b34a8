"""Slack payloads -> lorebot's neutral types. Pure functions: dicts in, dataclasses out.

Nothing here calls Slack or the core, so every rule (which payloads are messages and
reactions, how mentions are cleaned) is testable without a network or a database. Whether a
message is for lorebot, and which emoji are votes, is the core's call (``bot/inbound.py``).
"""

from __future__ import annotations

import html
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from bot.hygiene import clean_input
from bot.types import Actor, ChannelRef, IncomingMessage, Reaction

PLATFORM = "slack"
MAX_QUESTION_CHARS = 4000

# Message subtypes that are a person (or bot) saying something; edits, joins, deletions are not.
_SPOKEN_SUBTYPES = {None, "", "bot_message", "thread_broadcast", "file_share", "me_message"}
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL_MENTION = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")


def channel_ref(channel_id: str, channel_type: str | None = None) -> ChannelRef:
    """A DM is ``channel_type`` ``im`` in events, or an id starting with ``D`` elsewhere."""
    is_dm = channel_type == "im" or (channel_type is None and channel_id.startswith("D"))
    return ChannelRef(platform=PLATFORM, id=channel_id, is_dm=is_dm)


def actor(user_id: str, *, platform_admin: bool = False) -> Actor:
    return Actor(platform=PLATFORM, user_id=user_id, platform_admin=platform_admin)


def mentions(text: str, bot_user_id: str | None) -> bool:
    return bool(bot_user_id) and f"<@{bot_user_id}" in (text or "")


def clean_text(text: str, bot_user_id: str | None = None, *, tidy: bool = True,
               channel_ids: bool = False) -> str:
    """Slack's wire format to what a person typed: the bot's own mention removed, other
    mentions and links shown readably, entities unescaped, whitespace tidied (``tidy=False``
    keeps spacing and blank lines, e.g. the indentation of code in indexed history).

    ``channel_ids`` keeps a channel mention as ``<#C123>`` (its id, without the display name)
    for admin commands: ``scope set #channel`` must name the channel Slack means, and a name is
    not an id."""
    text = clean_input(text or "")  # NUL and lone surrogates break the database and the tokenizer
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>:?", " ", text)
    text = _USER_MENTION.sub(lambda m: f"@{m.group(2) or m.group(1)}", text)
    text = _CHANNEL_MENTION.sub(
        (lambda m: f"<#{m.group(1)}>") if channel_ids else (lambda m: f"#{m.group(2) or m.group(1)}"),
        text)
    text = _SPECIAL.sub(lambda m: f"@{m.group(1)}", text)
    text = _SUBTEAM.sub(lambda m: f"@{m.group(1) or 'group'}", text)
    text = _LINK.sub(lambda m: m.group(1) if not m.group(2) or m.group(2) == m.group(1)
                     else f"{m.group(2)} ({m.group(1)})", text)
    text = clean_input(html.unescape(text))  # "&#0;" unescapes to NUL
    if not tidy:
        return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.splitlines())).strip()
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def limit_question(text: str, limit: int = MAX_QUESTION_CHARS) -> tuple[str, bool]:
    """The question cut to ``limit`` characters at a word boundary, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(), True


def is_from_bot(event: dict[str, Any], *, bot_user_id: str | None, bot_id: str | None) -> bool:
    return bool(
        event.get("bot_id") or event.get("subtype") == "bot_message"
        or (bot_user_id and event.get("user") == bot_user_id)
        or (bot_id and event.get("bot_id") == bot_id)
    )


def is_own(event: dict[str, Any], *, bot_user_id: str | None, bot_id: str | None) -> bool:
    """Written by this very app (never answered, whatever the settings say)."""
    return bool((bot_user_id and event.get("user") == bot_user_id)
                or (bot_id and event.get("bot_id") == bot_id))


def message_from_event(
    event: dict[str, Any],
    *,
    bot_user_id: str | None,
    bot_id: str | None = None,
    event_id: str | None = None,
) -> IncomingMessage | None:
    """A ``message`` or ``app_mention`` event as an :class:`IncomingMessage`.

    None for events that are not someone saying something (edits, deletions, joins) or that
    lack the fields a question needs.
    """
    if event.get("subtype") not in _SPOKEN_SUBTYPES:
        return None
    channel = event.get("channel")
    ts = event.get("ts")
    user = event.get("user") or event.get("bot_id")
    if not channel or not ts or not user:
        return None
    raw = event.get("text") or ""
    return IncomingMessage(
        platform=PLATFORM,
        channel=channel_ref(channel, event.get("channel_type")),
        user=actor(user),
        text=clean_text(raw, bot_user_id),
        message_id=ts,
        thread_id=event.get("thread_ts"),
        mentioned=event.get("type") == "app_mention" or mentions(raw, bot_user_id),
        from_bot=is_from_bot(event, bot_user_id=bot_user_id, bot_id=bot_id),
        event_id=event_id,
        mention_event=event.get("type") == "app_mention",
    )


def normalise_emoji(name: str) -> str:
    """``+1::skin-tone-3`` -> ``+1``; Slack appends the skin tone to the reaction name."""
    return name.split("::", 1)[0].strip(":").lower()


def reaction_from_event(event: dict[str, Any], *, event_id: str | None = None) -> Reaction | None:
    """``reaction_added`` / ``reaction_removed`` on a message; None for files and the like."""
    item = event.get("item") or {}
    if item.get("type") != "message" or not item.get("channel") or not item.get("ts"):
        return None
    if not event.get("user") or not event.get("reaction"):
        return None
    return Reaction(
        platform=PLATFORM,
        channel=channel_ref(item["channel"]),
        user=actor(event["user"]),
        message_id=item["ts"],
        emoji=normalise_emoji(event["reaction"]),
        added=event.get("type") != "reaction_removed",
        event_id=event_id,
    )


@dataclass(frozen=True)
class SlashCommand:
    """``/lore ...`` split into what the person wants."""

    kind: Literal["ask", "admin", "help"]
    text: str
    user: Actor
    channel: ChannelRef


def slash_command(body: dict[str, Any]) -> SlashCommand:
    text = clean_text(body.get("text") or "")
    channel_id = body.get("channel_id") or ""
    channel = ChannelRef(platform=PLATFORM, id=channel_id,
                         is_dm=body.get("channel_name") == "directmessage" or channel_id.startswith("D"))
    user = actor(body.get("user_id") or "")
    head, _, rest = text.partition(" ")
    if not text or head.lower() in {"help", "-h", "--help"}:
        return SlashCommand("help", rest.strip(), user, channel)
    if head.lower() == "admin":
        # The router needs channel ids, not the names clean_text shows people.
        exact = clean_text(body.get("text") or "", channel_ids=True)
        return SlashCommand("admin", exact.partition(" ")[2].strip(), user, channel)
    return SlashCommand("ask", text, user, channel)


def parse_interaction_id(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        return None


def parse_share_value(value: str | None) -> tuple[uuid.UUID | None, str]:
    """The Share button's value -> (answer id, question); a bare id is accepted too."""
    try:
        data = json.loads(value or "")
    except ValueError:
        return parse_interaction_id(value), ""
    if not isinstance(data, dict):
        return parse_interaction_id(value), ""
    return parse_interaction_id(data.get("id")), str(data.get("q") or "")


def feedback_value(value: str | None) -> tuple[int | None, uuid.UUID | None]:
    """A native feedback button's value (``up:<answer id>`` / ``down:<answer id>``) -> (+1/-1, id)."""
    kind, _, rest = (value or "").partition(":")
    vote = {"up": 1, "down": -1}.get(kind)
    return (vote, parse_interaction_id(rest)) if vote is not None else (None, None)


@dataclass(frozen=True)
class ButtonPress:
    action_id: str
    interaction_id: uuid.UUID | None
    user: Actor
    channel: ChannelRef | None
    message_ts: str | None
    trigger_id: str | None


def button_press(body: dict[str, Any], action: dict[str, Any]) -> ButtonPress:
    """One element of a ``block_actions`` payload."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    container = body.get("container") or {}
    return ButtonPress(
        action_id=action.get("action_id", ""),
        interaction_id=parse_interaction_id(action.get("value")),
        user=actor((body.get("user") or {}).get("id", "")),
        channel=channel_ref(channel) if channel else None,
        message_ts=container.get("message_ts") or (body.get("message") or {}).get("ts"),
        trigger_id=body.get("trigger_id"),
    )
