"""Block Kit rendering of an :class:`~bot.types.Answer`: pure functions, no SDK.

An answer becomes one or more Slack messages: the answer text as ``section`` blocks (Markdown
converted to Slack mrkdwn), then the sources (title linked to the URL or path, heading,
freshness) and the feedback buttons. Slack refuses a section text over 3,000 characters and a
message over 50 blocks, and cuts the ``text`` field at 40,000 characters, so long answers are
split at paragraph, line, sentence or word boundaries, never inside a ``[n]`` citation, and a
fenced code block that must be split is closed and reopened so each part still renders as code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from bot.text import split_text as text_split
from bot.types import Answer, Citation

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
MESSAGE_LIMIT = 40_000
MAX_MESSAGES = 10
RESPONSE_URL_MESSAGES = 5  # Slack accepts five posts to one response_url
FALLBACK_LIMIT = 3000
SHARE_QUESTION_CHARS = 1200  # a button value holds at most 2,000 characters
MARKDOWN_LIMIT = 12_000  # a ``markdown`` block's text; 12,001 is refused (msg_too_long)

VOTE_UP = "lorebot_vote_up"
VOTE_DOWN = "lorebot_vote_down"
SHARE = "lorebot_share"
FEEDBACK_MODAL = "lorebot_feedback_modal"
NATIVE_FEEDBACK = "lorebot_feedback"  # the feedback_buttons element's action_id

_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_ENTITY = re.compile(r"&(?:amp|lt|gt);")


@dataclass
class SlackMessage:
    """One ``chat.postMessage`` worth: blocks plus the plain-text fallback Slack requires."""

    text: str
    blocks: list[dict[str, Any]]


# --------------------------------------------------------------------------- Markdown -> mrkdwn


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str, label: str) -> str:
    # A ``|`` or ``>`` in the URL would end Slack's <url|label> syntax early.
    safe_url = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace("&", "&amp;")
    label = label.replace("|", "¦").replace(">", "&gt;").replace("<", "&lt;")
    return f"<{safe_url}|{label}>" if label else f"<{safe_url}>"


_MD_LINK = re.compile(r"!?\[([^\]\n]+)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$")
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+")
_QUOTE = re.compile(r"^[ \t]*>[ \t]?")
_HRULE = re.compile(r"^[ \t]*([-*_])([ \t]*\1){2,}[ \t]*$")
_BOLD_MARK = "\x00"


def _inline(text: str) -> str:
    """Convert one line of Markdown outside code spans into mrkdwn."""
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        links.append(_link(match.group(2), _escape(match.group(1))))
        return f"\x01{len(links) - 1}\x01"

    text = _MD_LINK.sub(keep_link, text)
    text = _escape(text)
    # Bold first into a placeholder, so the single-star italic rule cannot see it.
    text = _BOLD.sub(lambda m: f"{_BOLD_MARK}{m.group(2)}{_BOLD_MARK}", text)
    text = _ITALIC.sub(r"_\1_", text)
    text = _STRIKE.sub(r"~\1~", text)
    text = text.replace(_BOLD_MARK, "*")
    return re.sub("\x01(\\d+)\x01", lambda m: links[int(m.group(1))], text)


def _line_to_mrkdwn(line: str) -> str:
    if _HRULE.match(line):
        return "――――――"
    heading = _HEADING.match(line)
    if heading:
        inner = heading.group(1).replace("**", "").replace("__", "")
        return f"*{_convert_spans(inner)}*"
    prefix = ""
    quote = _QUOTE.match(line)
    if quote:
        prefix, line = "> ", line[quote.end():]
    bullet = _BULLET.match(line)
    if bullet:
        prefix += f"{bullet.group(1)}• "
        line = line[bullet.end():]
    return prefix + _convert_spans(line)


def _convert_spans(line: str) -> str:
    # Inline code keeps its text verbatim (only escaped); everything else is converted.
    parts = re.split(r"(`[^`\n]+`)", line)
    return "".join(_escape(p) if p.startswith("`") and p.endswith("`") and len(p) > 1 else _inline(p)
                   for p in parts)


def to_mrkdwn(markdown: str) -> str:
    """Markdown (what answer models write) to Slack mrkdwn.

    ``**bold**`` -> ``*bold*``, ``*italic*`` -> ``_italic_``, ``[t](u)`` -> ``<u|t>``,
    headings -> bold lines, ``-``/``*`` lists -> bullets; fenced code is kept verbatim (the
    language tag dropped, since Slack would show it as text); ``&``, ``<``, ``>`` escaped.
    """
    out: list[str] = []
    in_code = False
    fence = ""
    for line in markdown.replace("\r\n", "\n").split("\n"):
        match = _FENCE.match(line)
        if match and (not in_code or match.group(1) == fence):
            if not in_code:
                in_code, fence = True, match.group(1)
                out.append("```")
            else:
                in_code = False
                out.append("```")
            continue
        out.append(_escape(line) if in_code else _line_to_mrkdwn(line))
    if in_code:  # an unclosed fence would swallow everything after it in Slack
        out.append("```")
    return "\n".join(out)


# --------------------------------------------------------------------------- splitting

# Slack mrkdwn tokens a cut must not fall inside: HTML entities and <url|label> links.
_LINK_TOKEN = re.compile(r"<[^<>\n]{1,400}>")


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Slack pieces of at most ``limit`` characters (the shared splitter, :mod:`bot.text`)."""
    return text_split(text, limit, unbreakable=(_ENTITY, _LINK_TOKEN))


# --------------------------------------------------------------------------- sources


def humanize_age(when: datetime | None, now: datetime | None = None) -> str:
    """``3 days ago`` style; empty when the time is unknown."""
    if when is None:
        return ""
    now = now or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = max(0.0, (now - when).total_seconds())
    for unit, size in (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400),
                       ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def _is_url(uri: str) -> bool:
    return uri.startswith(("http://", "https://", "mailto:"))


def source_line(citation: Citation, now: datetime | None = None) -> str:
    title = (citation.title or citation.uri or f"document {citation.document_id}").strip()
    title = title[:150]
    if _is_url(citation.uri):
        head = _link(quote(citation.uri, safe=":/?#[]@!$&'()*+,;=%~-._"), _escape(title))
    elif citation.uri and citation.uri != title:
        head = f"*{_escape(title)}* `{_escape(citation.uri[:200])}`"
    else:
        head = f"*{_escape(title)}*"
    parts = [f"[{citation.marker}] {head}"]
    if citation.heading:
        parts.append(_escape(citation.heading[:120]))
    age = humanize_age(citation.ingested_at, now)
    if age:
        parts.append(f"updated {age}")
    return " · ".join(parts)


def _sources_block(answer: Answer, now: datetime | None) -> dict[str, Any] | None:
    if not answer.citations:
        return None
    label = "Closest sources" if answer.abstained else "Sources"
    lines = [f"*{label}*"] + [source_line(c, now) for c in answer.citations]
    text = "\n".join(lines)
    if len(text) > SECTION_LIMIT:
        text = split_text(text, SECTION_LIMIT - 1)[0] + "…"
    return {"type": "section", "block_id": "lorebot_sources", "text": {"type": "mrkdwn", "text": text}}


def share_value(interaction_id: str, question: str) -> str:
    """The Share button's value: the answer's id, and its question so that any replica (or a
    restarted one) can answer again if it no longer holds the ephemeral answer."""
    return json.dumps({"id": interaction_id, "q": question[:SHARE_QUESTION_CHARS]}, ensure_ascii=False)


def feedback_buttons(interaction_id: str, *, share: bool = False, question: str = "") -> dict[str, Any]:
    """The 👍 / 👎 (and optional share) buttons; the interaction id travels in ``value``."""
    elements: list[dict[str, Any]] = [
        {"type": "button", "action_id": VOTE_UP, "value": interaction_id,
         "text": {"type": "plain_text", "text": "👍 Helpful", "emoji": True}},
        {"type": "button", "action_id": VOTE_DOWN, "value": interaction_id,
         "text": {"type": "plain_text", "text": "👎 Not helpful", "emoji": True}},
    ]
    if share:
        elements.append({"type": "button", "action_id": SHARE, "value": share_value(interaction_id, question),
                         "style": "primary",
                         "text": {"type": "plain_text", "text": "Share to channel", "emoji": True}})
    return {"type": "actions", "block_id": "lorebot_feedback", "elements": elements}


def native_feedback_block(interaction_id: str) -> dict[str, Any]:
    """Slack's own 👍 / 👎 (``context_actions`` > ``feedback_buttons``); each button's value
    says which vote and which answer, since the press carries only that value."""
    return {"type": "context_actions", "block_id": "lorebot_native_feedback", "elements": [{
        "type": "feedback_buttons", "action_id": NATIVE_FEEDBACK,
        "positive_button": {"text": {"type": "plain_text", "text": "Helpful"},
                            "accessibility_label": "This answer was helpful",
                            "value": f"up:{interaction_id}"},
        "negative_button": {"text": {"type": "plain_text", "text": "Not helpful"},
                            "accessibility_label": "This answer was not helpful",
                            "value": f"down:{interaction_id}"},
    }]}


def _tail_blocks(answer: Answer, *, now: datetime | None, share: bool,
                 footer: str | None, native_feedback: bool = False) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    sources = _sources_block(answer, now)
    if sources:
        blocks += [{"type": "divider"}, sources]
    # ``footer`` is mrkdwn written by the adapter; the notice is plain text from the core.
    notes = [_escape(answer.notice)] if answer.notice else []
    if footer:
        notes.append(footer)
    if answer.interaction_id:
        notes.append(f"ref `{answer.reference}`")
    if notes:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": n[:2900]} for n in notes[:10]
        ]})
    if answer.interaction_id:
        # Sharing needs a button of its own, which a context_actions block cannot hold.
        if native_feedback and not share:
            blocks.append(native_feedback_block(str(answer.interaction_id)))
        else:
            blocks.append(feedback_buttons(str(answer.interaction_id), share=share,
                                           question=answer.question))
    return blocks


def answer_tail(answer: Answer, *, now: datetime | None = None,
                native_feedback: bool = True) -> list[dict[str, Any]]:
    """What follows the answer text: sources with freshness, notes, feedback (a streamed
    answer's ``chat.stopStream`` blocks)."""
    return _tail_blocks(answer, now=now, share=False, footer=None, native_feedback=native_feedback)


_CODE_FENCE = re.compile(r"^[ \t]*(```|~~~)", re.M)
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(\|[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*$", re.M)
_LIST_LINE = re.compile(r"^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+\S", re.M)


def wants_markdown(text: str) -> bool:
    """Code fences, lists or tables: what mrkdwn renders badly (no tables, no nested lists,
    no numbered lists) and a ``markdown`` block renders as written."""
    return (bool(_CODE_FENCE.search(text)) or bool(_TABLE_RULE.search(text))
            or len(_LIST_LINE.findall(text)) >= 2)


def markdown_body(text: str) -> list[dict[str, Any]] | None:
    """The answer as one ``markdown`` block, or None when sections suit it better (plain prose)
    or it is over the block's 12,000 characters (then sections split it safely)."""
    text = text.strip()
    if not text or len(text) > MARKDOWN_LIMIT or not wants_markdown(text):
        return None
    return [{"type": "markdown", "block_id": "lorebot_answer", "text": text}]


def _block_chars(block: dict[str, Any]) -> int:
    text = block.get("text")
    if isinstance(text, str):  # markdown block
        return len(text)
    if isinstance(text, dict):
        return len(text.get("text", ""))
    return sum(len(e.get("text", "")) for e in block.get("elements", []) if isinstance(e.get("text"), str))


def _plain(mrkdwn: str) -> str:
    text = re.sub(r"<([^|>]+)\|([^>]+)>", r"\2 (\1)", mrkdwn)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text if len(text) <= FALLBACK_LIMIT else text[: FALLBACK_LIMIT - 1] + "…"


def _pack(body: list[dict[str, Any]], tail: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Group blocks into messages within the block-count and character budgets."""
    messages: list[list[dict[str, Any]]] = [[]]
    size = 0
    for block in body:
        chars = _block_chars(block)
        if messages[-1] and (len(messages[-1]) + 1 > MAX_BLOCKS or size + chars > MESSAGE_LIMIT):
            messages.append([])
            size = 0
        messages[-1].append(block)
        size += chars
    tail_chars = sum(_block_chars(b) for b in tail)
    if tail and (len(messages[-1]) + len(tail) > MAX_BLOCKS or size + tail_chars > MESSAGE_LIMIT):
        messages.append([])
    messages[-1].extend(tail)
    return [m for m in messages if m]


def render_text(text: str, *, markdown: bool = True) -> list[SlackMessage]:
    """A plain reply (usage hint, apology, admin result) as messages within Slack's limits."""
    body = to_mrkdwn(text) if markdown else _escape(text)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": part}}
              for part in split_text(body, SECTION_LIMIT)] or [
        {"type": "section", "text": {"type": "mrkdwn", "text": " "}}]
    return [SlackMessage(text=_plain("\n".join(b["text"]["text"] for b in m)), blocks=m)
            for m in _pack(blocks, [])[:MAX_MESSAGES]]


def render_answer(
    answer: Answer,
    *,
    now: datetime | None = None,
    share: bool = False,
    footer: str | None = None,
    max_messages: int = MAX_MESSAGES,
    markdown: bool = False,
    native_feedback: bool = False,
) -> list[SlackMessage]:
    """Messages carrying ``answer``: text first, sources and buttons in the last one.

    ``markdown``: an answer with code, lists or tables goes in one ``markdown`` block (when it
    fits its 12,000 characters); otherwise the text is converted to mrkdwn sections.
    """
    sections = markdown_body(answer.text) if markdown else None
    if sections is None:
        body_text = to_mrkdwn(answer.text.strip() or "(no answer text)")
        sections = [{"type": "section", "text": {"type": "mrkdwn", "text": part}}
                    for part in split_text(body_text, SECTION_LIMIT)]

    def tail() -> list[dict[str, Any]]:
        return _tail_blocks(answer, now=now, share=share, footer=footer, native_feedback=native_feedback)

    packed = _pack(sections, tail())
    if len(packed) > max_messages:
        packed = packed[: max_messages - 1] + [
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": "_(answer truncated)_"}]}]
            + tail()
        ]
    messages = []
    for blocks in packed:
        texts = [b["text"] if b["type"] == "markdown" else b["text"]["text"] for b in blocks
                 if (b["type"] == "section" and b.get("block_id") != "lorebot_sources")
                 or b["type"] == "markdown"]
        fallback = "\n".join(texts) or ("Sources: " + ", ".join(
            c.title or c.uri for c in answer.citations) if answer.citations else "lorebot answer")
        messages.append(SlackMessage(text=_plain(fallback), blocks=blocks))
    return messages


def feedback_modal(interaction_id: str) -> dict[str, Any]:
    """The short "what was wrong?" modal a 👎 opens; the answer travels in private_metadata."""
    return {
        "type": "modal",
        "callback_id": FEEDBACK_MODAL,
        "private_metadata": interaction_id,
        "title": {"type": "plain_text", "text": "What was wrong?"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Skip"},
        "blocks": [{
            "type": "input",
            "block_id": "what",
            "optional": True,
            "label": {"type": "plain_text", "text": "What was wrong or missing? (optional)"},
            "element": {"type": "plain_text_input", "action_id": "text", "multiline": True,
                        "max_length": 2000},
        }],
    }
