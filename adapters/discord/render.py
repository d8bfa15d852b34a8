"""Pure rendering of an :class:`~bot.types.Answer` for Discord, within Discord's limits.

Nothing here talks to Discord: it turns an answer into plain embed dicts and message
contents, so the limits (2,000 characters per message, 4,096 per embed description, 25
fields, 256 per field name, 1,024 per field value, 6,000 per embed) are tested without a
client. A long answer becomes several messages; the last one carries the sources and the
feedback buttons. Text is only ever cut between words, never inside a ``[n]`` citation (nor
between a claim and its citation), and a code block cut in two is closed and reopened so both
halves still render as code.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from bot.text import split_text as text_split
from bot.types import Answer, Citation

MESSAGE_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
EMBED_TOTAL_LIMIT = 6000
TITLE_LIMIT = 256
FOOTER_LIMIT = 2048

COLOR_ANSWER = 0x5865F2
COLOR_ABSTAINED = 0x95A5A6

@dataclass(frozen=True)
class RenderedMessage:
    """One Discord message: optional plain content, optional embed, buttons or not."""

    content: str | None
    embed: dict | None
    with_feedback: bool = False


def split_text(text: str, limit: int) -> list[str]:
    """Discord pieces of at most ``limit`` characters (the shared splitter, :mod:`bot.text`)."""
    return text_split(text, limit)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _is_link(uri: str) -> bool:
    parsed = urlparse(uri)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _escape_link_text(text: str) -> str:
    return text.replace("[", "(").replace("]", ")").replace("\n", " ")


def source_field(citation: Citation) -> dict:
    """One embed field for a source: title linked, heading, and when it was last ingested."""
    title = citation.title.strip() or citation.uri or f"document {citation.document_id}"
    name = _clip(f"[{citation.marker}] {title}", FIELD_NAME_LIMIT)
    lines: list[str] = []
    if _is_link(citation.uri) and len(citation.uri) < FIELD_VALUE_LIMIT - 200:
        lines.append(f"[{_clip(_escape_link_text(title), 150)}]({citation.uri})")
    elif citation.uri:
        path = citation.uri.replace("`", "'")
        lines.append(f"`{_clip(path, 300)}`")
    if citation.heading:
        lines.append(f"§ {_clip(citation.heading.replace(chr(10), ' '), 300)}")
    if citation.ingested_at is not None:
        # Discord renders <t:...:R> as "3 days ago" in each reader's own locale and time zone.
        lines.append(f"updated <t:{int(citation.ingested_at.timestamp())}:R>")
    value = "\n".join(lines) or "(no link)"
    return {"name": name, "value": _clip(value, FIELD_VALUE_LIMIT), "inline": False}


def _embed_size(embed: dict) -> int:
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += len(embed.get("footer", {}).get("text", ""))
    for field in embed.get("fields", []):
        size += len(field["name"]) + len(field["value"])
    return size


def _source_fields(citations: list[Citation]) -> list[dict]:
    fields = [source_field(c) for c in sorted(citations, key=lambda c: c.marker)]
    if len(fields) > FIELDS_LIMIT:
        hidden = len(fields) - (FIELDS_LIMIT - 1)
        fields = fields[: FIELDS_LIMIT - 1]
        fields.append({"name": "…", "value": f"and {hidden} more sources", "inline": False})
    return fields


def footer_text(answer: Answer) -> str:
    parts = [f"ref {answer.reference}"]
    if answer.style_model:
        parts.append(f"style {answer.style_model}")
    if answer.citations:
        parts.append("👍/👎 to rate this answer")
    return _clip(" · ".join(parts), FOOTER_LIMIT)


def render_answer(answer: Answer, *, title: str | None = None) -> list[RenderedMessage]:
    """The messages that carry ``answer``: one embed each, sources on the last one."""
    color = COLOR_ABSTAINED if answer.abstained else COLOR_ANSWER
    title = _clip(title if title is not None else (answer.question or "Answer"), TITLE_LIMIT)
    footer = footer_text(answer)
    fields = _source_fields(answer.citations)

    def last_embed(description: str, fields: list[dict]) -> dict:
        embed: dict = {"type": "rich", "description": description, "color": color,
                       "footer": {"text": footer}}
        if fields:
            embed["fields"] = fields
        return embed

    # The last embed shares its 6,000 characters between text, sources and footer; drop
    # sources from the end (saying so) rather than cut the answer to nothing.
    while fields and EMBED_TOTAL_LIMIT - _embed_size(last_embed("", fields)) - len(title) < 500:
        fields = fields[:-2] + [{"name": "…", "value": "more sources not shown", "inline": False}]
    last_budget = min(DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT - _embed_size(last_embed("", fields))
                      - len(title))

    text = answer.text.strip() or "(empty answer)"
    parts = split_text(text, DESCRIPTION_LIMIT)
    if len(parts[-1]) > last_budget:
        parts = parts[:-1] + split_text(parts[-1], last_budget)

    messages: list[RenderedMessage] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        embed = last_embed(part, fields) if last else {"type": "rich", "description": part,
                                                       "color": color}
        if i == 0:
            embed["title"] = title
        elif not last:
            embed["footer"] = {"text": f"part {i + 1} of {len(parts)}"}
        content = _clip(answer.notice, MESSAGE_LIMIT) if (i == 0 and answer.notice) else None
        messages.append(RenderedMessage(content=content, embed=embed, with_feedback=last))
    return messages


def render_text(text: str) -> list[str]:
    """Plain replies (admin command results, errors) as messages of at most 2,000 characters."""
    return split_text(text, MESSAGE_LIMIT) or ["(no output)"]


def embed_size(embed: dict) -> int:
    """What Discord counts towards the 6,000-character embed limit."""
    return _embed_size(embed)
