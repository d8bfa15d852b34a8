"""Cutting long answer text into pieces a chat platform accepts: the one splitter that the
Slack and Discord renderers share (they differ only in the limit and what must not be cut).

Pure: text in, pieces out. Cuts go at the most natural place that fits (paragraph, line,
sentence, word), never inside a ``[n]`` citation nor between a claim and the citation that
follows it, and a code block cut in two is closed at the end of one piece and reopened (with
its language) at the start of the next, so every piece renders on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

FENCE = "```"
CITATION = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")
_CITATION_AHEAD = re.compile(r"\s*\[\d")
# Cut preferences, best first: paragraph, line, sentence, word.
_SEPARATORS = ("\n\n", "\n", ". ", " ")
# How far around a cut to look for a token it would fall inside.
_WINDOW = 410  # the longest token kept whole (a Slack <url|label> link, 400)


def _inside(text: str, pos: int, atoms: Sequence[re.Pattern[str]]) -> bool:
    for pattern in atoms:
        for match in pattern.finditer(text, max(0, pos - _WINDOW), min(len(text), pos + _WINDOW)):
            if match.start() < pos < match.end():
                return True
    return False


def open_fence(text: str) -> str | None:
    """The info string (e.g. ``python``) of a code block left open at the end of ``text``."""
    count = text.count(FENCE)
    if count % 2 == 0:
        return None
    start = text.rfind(FENCE) + len(FENCE)
    end = text.find("\n", start)
    return text[start:end if end != -1 else len(text)].strip()


def _cut_point(text: str, budget: int, atoms: Sequence[re.Pattern[str]]) -> int:
    """Where to cut ``text`` so the head is at most ``budget`` characters."""
    window = text[:budget]
    # Cutting before a code block that starts late enough keeps the whole block together.
    fence_at = window.rfind(FENCE)
    if open_fence(window) is not None and fence_at >= budget // 4:
        return fence_at
    for minimum in (budget // 2, 1):
        for sep in _SEPARATORS:
            pos = window.rfind(sep)
            while pos >= minimum:
                cut = pos + len(sep)
                if cut <= budget and not _inside(text, cut, atoms) and not (
                    sep != "\n\n" and _CITATION_AHEAD.match(text, cut)
                ):
                    return cut
                pos = window.rfind(sep, 0, pos)
    # One unbroken token longer than the budget: cut it, but never through a citation.
    cut = budget
    while cut > 1 and _inside(text, cut, atoms):
        cut -= 1
    return cut


def split_text(text: str, limit: int, *, unbreakable: Sequence[re.Pattern[str]] = ()) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at safe places.

    ``unbreakable``: further tokens a cut must not fall inside (Slack's ``&amp;`` entities and
    ``<url|label>`` links); citations are always kept whole.
    """
    if limit < 40:
        raise ValueError("a text limit below 40 characters leaves no room for code fences")
    atoms = (CITATION, *unbreakable)
    rest = text.strip()
    pieces: list[str] = []
    while len(rest) > limit:
        budget = limit - len("\n" + FENCE)  # room to close a code block cut in two
        cut = _cut_point(rest, budget, atoms)
        head, tail = rest[:cut], rest[cut:]
        lang = open_fence(head)
        if lang is None:
            head, tail = head.rstrip(), tail.lstrip()
        else:
            # Inside code, whitespace is content: only the newline at the cut is dropped.
            head = head.rstrip("\n")
            tail = tail.lstrip("\n")
            head += "\n" + FENCE
            tail = f"{FENCE}{lang}\n{tail}"
        if head.strip():
            pieces.append(head)
        rest = tail
    if rest.strip():
        pieces.append(rest)
    return pieces
