"""When lorebot answers, and which emoji are votes: the one inbound policy for every platform.

Pure functions over settings and neutral types, so each rule is unit-tested without a
database; :meth:`bot.core.LoreBot.on_message` / ``on_reaction`` apply them and add the two
rules that need the database (was this thread answered by lorebot, first delivery or retry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.settings import Settings
from bot.types import IncomingMessage, Reply

_ACKS = {"thanks", "thank you", "thanks a lot", "many thanks", "thx", "ty", "ok", "okay", "k", "cool",
         "great", "nice", "got it", "perfect", "awesome", "lgtm", "+1", "yes", "no", "sure", "done"}
# Skin tones and the emoji presentation selector do not change what a vote means.
_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")


def is_acknowledgement(text: str) -> bool:
    """"thanks!", "ok 👍", ":+1:" and the like: a reply in a thread that asks nothing."""
    text = re.sub(r":[a-z0-9_+\-]+:", " ", text.lower())
    text = re.sub(r"[^\w\s+']", " ", text)
    text = " ".join(text.split())
    return not text or text in _ACKS


def normalise_emoji(name: str) -> str:
    """``+1::skin-tone-3`` -> ``+1`` (Slack), ``👍🏽`` -> ``👍`` (Unicode): the vote, not the tone."""
    return _MODIFIERS.sub("", name.split("::", 1)[0].strip(":").lower())


def vote_for_emoji(emoji: str, *, up: list[str], down: list[str]) -> int | None:
    """+1, -1, or None when the emoji is not a vote."""
    emoji = normalise_emoji(emoji)
    if emoji in {normalise_emoji(e) for e in up}:
        return 1
    if emoji in {normalise_emoji(e) for e in down}:
        return -1
    return None


def vote_emoji(settings: Settings, platform: str) -> tuple[list[str], list[str]]:
    """The (up, down) vote emoji of ``platform``, from settings; none for other platforms."""
    if platform == "slack":
        return settings.slack_upvote_emoji, settings.slack_downvote_emoji
    if platform == "discord":
        return settings.discord_upvote_emoji, settings.discord_downvote_emoji
    return [], []


@dataclass(frozen=True)
class InboundRules:
    """What one platform's settings allow. ``separate_mention_events``: the platform sends a
    mention as its own event as well as the plain message (Slack), so one of them is skipped."""

    answer_dms: bool
    answer_mentions: bool
    thread_followups: bool
    answer_other_bots: bool
    separate_mention_events: bool


def rules_for(settings: Settings, platform: str) -> InboundRules:
    if platform == "slack":
        return InboundRules(answer_dms=True, answer_mentions=True,
                            thread_followups=settings.slack_thread_followups == "always",
                            answer_other_bots=settings.slack_answer_other_bots,
                            separate_mention_events=True)
    if platform == "discord":
        # Follow-ups carry no mention, so they need the same message-content intent as mentions.
        return InboundRules(answer_dms=settings.discord_answer_dms,
                            answer_mentions=settings.discord_answer_mentions,
                            thread_followups=settings.discord_answer_mentions,
                            answer_other_bots=False, separate_mention_events=False)
    return InboundRules(answer_dms=True, answer_mentions=True, thread_followups=True,
                        answer_other_bots=False, separate_mention_events=False)


@dataclass(frozen=True)
class Decision:
    """The settings-only part of the verdict: a reply, pending a follow-up thread check."""

    reply: Reply
    needs_bot_thread: bool = False


def decide(msg: IncomingMessage, rules: InboundRules) -> Decision | None:
    """Is ``msg`` for lorebot, and where does the reply go? None: stay quiet.

    A follow-up (a thread reply with no mention) is only for lorebot if lorebot answered in
    that thread; ``needs_bot_thread`` asks the caller to check that in the database.
    """
    if msg.from_bot and not rules.answer_other_bots:
        return None
    kind = "answer" if msg.text else "usage"
    if msg.channel.is_dm:
        # Slack also sends app_mention for a mention in a DM; the message event answers it.
        if not rules.answer_dms or (rules.separate_mention_events and msg.mention_event):
            return None
        return Decision(Reply(kind, msg.text, thread=msg.thread_id))
    if msg.mentioned:
        # Slack: the plain message event of a mention is skipped; app_mention answers it.
        if not rules.answer_mentions or (rules.separate_mention_events and not msg.mention_event):
            return None
        return Decision(Reply(kind, msg.text, thread=msg.thread_id or msg.message_id,
                              new_thread=msg.thread_id is None))
    if msg.thread_id and rules.thread_followups:
        # "thanks!" under an answer is not a question; answering it would be noise.
        if is_acknowledgement(msg.text):
            return None
        return Decision(Reply("answer", msg.text, thread=msg.thread_id), needs_bot_thread=True)
    return None
