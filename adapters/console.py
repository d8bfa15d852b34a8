"""A local console adapter: ask lorebot from a terminal, vote, and run admin commands.

It follows the same shape as the chat adapters: plain text in, neutral calls to ``LoreBot``,
a rendered reply out. Useful for trying a knowledge base before wiring Slack or Discord.
"""

from __future__ import annotations

import getpass
import sys
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from bot.ports import Core
from bot.types import Actor, Answer, ChannelRef

HELP = (
    "Type a question. After an answer: +1 / -1 to vote. '/lore <command>' runs an admin "
    "command (try '/lore help'). ':new' starts a new thread, ':quit' leaves."
)


def _age(when: datetime | None) -> str:
    if when is None:
        return ""
    days = (datetime.now(UTC) - when).days
    return "updated today" if days <= 0 else f"updated {days} day{'s' if days != 1 else ''} ago"


def render(answer: Answer) -> str:
    """The answer, its sources and the reference id as plain text."""
    lines = [answer.text.strip()]
    if answer.notice:
        lines.append(f"({answer.notice})")
    if answer.citations:
        lines.append("")
        lines.append("Closest sources:" if answer.abstained else "Sources:")
        for c in answer.citations:
            where = f" > {c.heading}" if c.heading else ""
            fresh = f", {_age(c.ingested_at)}" if c.ingested_at else ""
            lines.append(f"  [{c.marker}] {c.title}{where} - {c.uri} (score {c.score:.2f}{fresh})")
    lines.append(f"ref {answer.reference}")
    return "\n".join(lines)


def run_console(
    core: Core,
    *,
    lines: Iterable[str] | None = None,
    out: Callable[[str], None] = print,
    user: str | None = None,
) -> None:
    """Read questions from ``lines`` (default: stdin) until EOF or ':quit'."""
    actor = Actor("cli", user or getpass.getuser())
    channel = ChannelRef("cli", "console", is_dm=True)
    thread = uuid.uuid4().hex[:12]
    last: Answer | None = None
    interactive = lines is None and sys.stdin.isatty()
    source = lines if lines is not None else sys.stdin
    if interactive:
        out(HELP)
    for raw in source:
        text = raw.strip()
        if not text:
            continue
        if text in {":quit", ":q", "exit"}:
            break
        if text == ":new":
            thread, last = uuid.uuid4().hex[:12], None
            out("(new thread)")
            continue
        if text in {"+1", "-1"}:
            if last is None or last.interaction_id is None:
                out("nothing to vote on yet")
            else:
                core.vote(user=actor, value=int(text), signal="console",
                          interaction_id=last.interaction_id)
                out("thanks, vote recorded")
            continue
        if text.startswith("/lore"):
            result = core.command(text[len("/lore"):].strip(), actor=actor, channel=channel,
                                  notify=out)
            out(result.text)
            continue
        last = core.ask(text, channel=channel, asker=actor, thread=thread)
        out(render(last))
