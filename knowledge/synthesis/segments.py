"""Cutting retrieved passages into the units an extractive answer quotes.

A unit is one sentence of prose, or one whole block (a list, a table, a code block) that only
makes sense in one piece. Every unit is verbatim text of its passage, so an answer assembled from
units says nothing its source does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Sentence ends: . ! ? (and CJK 。！？) followed by space or end; keeps "e.g." mostly whole.
_SENT = re.compile(r"(?<=[.!?。！？])\s+(?=[^\s])|\n+")
_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "that",
        "the",
        "their",
        "there",
        "these",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "we",
        "should",
        "would",
        "could",
        "has",
        "have",
        "had",
        "not",
        "no",
        "yes",
        "if",
        "then",
        "than",
        "so",
    ]
)


_HEADING = re.compile(r"^\s*#{1,6}\s")
_STARTS_WELL = re.compile(r"^[\W\d_]*[A-Z0-9`\"'*\-(\[]|^[^\x00-\x7f]")
_LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s")
_ENDS_WELL = re.compile(r"[.!?:;)\]`\"'。！？]\s*$")


def unwrap(text: str) -> str:
    """Join hard-wrapped lines back into their paragraph (Markdown, reST and e-mail wrap prose
    at a fixed width); headings, list items, table rows and code keep their own lines."""
    out: list[str] = []
    in_code = False
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            out.append(line)
            continue
        starts_block = (not stripped or in_code or _HEADING.match(line) or _LIST_ITEM.match(line)
                        or stripped.startswith(("|", ">")))
        prev = out[-1].strip() if out else ""
        if (not starts_block and prev and not prev.startswith("```") and not _HEADING.match(out[-1])
                and not prev.startswith("|")):
            out[-1] = out[-1].rstrip() + " " + stripped
        else:
            out.append(line)
    return "\n".join(out)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT.split(unwrap(text)) if s and len(s.strip()) > 1]


def answerable_sentences(text: str, *, starts_document: bool = False) -> list[str]:
    """The passage's sentences that can stand alone in an answer.

    Headings are labels, not statements. A chunk boundary can cut a sentence: the first piece
    of a passage starting in lower case, or the last one with no closing punctuation, is half a
    sentence whose meaning may be the opposite of the whole, so neither is quoted.
    """
    sents = [s for s in sentences(text) if not _HEADING.match(s)]
    if sents and not starts_document and not _STARTS_WELL.match(sents[0]):
        sents = sents[1:]
    if (sents and not _ENDS_WELL.search(sents[-1]) and not _LIST_ITEM.match(sents[-1])
            and not text.rstrip().endswith("```")):
        sents = sents[:-1]
    return sents


def stem(word: str) -> str:
    w = word.lower()
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            return w[: -len(suffix)]
    return w


def terms(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text) if w.lower() not in _STOP]



# A sentence opening with one of these leans on the sentence before it ("It takes three
# minutes."): quoted alone it names nothing, so it is quoted together with its antecedent.
_DEPENDENT = re.compile(
    r"^(it|its|this|that|these|those|they|their|them|he|his|she|her|such|both|each|the latter|"
    r"the former|however|also|thus|therefore|moreover|in addition|as a result|there)\b", re.I)
_TABLE_ROW = re.compile(r"^\s*\|")


@dataclass(frozen=True)
class Unit:
    """One quotable piece of a passage: ``kind`` is ``sentence`` or ``block``."""

    passage: int  # 0-based passage number
    position: int  # order within the passage
    text: str
    kind: str = "sentence"

    @property
    def dependent(self) -> bool:
        return self.kind == "sentence" and bool(_DEPENDENT.match(self.text))


def _blocks(text: str) -> list[tuple[str, str]]:
    """(kind, text) in reading order: code fences, tables and lists whole; headings marked;
    everything else prose (one entry per unwrapped line)."""
    out: list[tuple[str, str]] = []
    lines = unwrap(text).split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("```"):
                j += 1
            out.append(("block", "\n".join(lines[i:j + 1])))
            i = j + 1
            continue
        for pattern in (_TABLE_ROW, _LIST_ITEM):
            if pattern.match(line):
                j = i
                while j < len(lines) and pattern.match(lines[j]):
                    j += 1
                out.append(("block" if j - i > 1 else "sentence", "\n".join(lines[i:j])))
                i = j
                break
        else:
            if _HEADING.match(line):
                out.append(("heading", stripped))
            elif stripped:
                out.append(("prose", stripped))
            i += 1
    return out


def units(text: str, passage: int, *, starts_document: bool = False) -> list[Unit]:
    """The passage's quotable units. Headings are labels, not statements; a chunk boundary can
    cut a sentence, so a first piece starting in lower case (mid-document) and a last piece
    without closing punctuation are left out, as in :func:`answerable_sentences`."""
    pieces: list[tuple[str, str]] = []
    for kind, body in _blocks(text):
        if kind == "prose":
            pieces += [("sentence", s.strip()) for s in _SENT.split(body) if len(s.strip()) > 1]
        elif kind != "heading":
            pieces.append(("block" if kind == "block" else "sentence", body))
    if pieces and not starts_document and pieces[0][0] == "sentence" \
            and not _STARTS_WELL.match(pieces[0][1]):
        pieces = pieces[1:]
    if pieces and pieces[-1][0] == "sentence" and not _ENDS_WELL.search(pieces[-1][1]) \
            and not _LIST_ITEM.match(pieces[-1][1]) and not text.rstrip().endswith("```"):
        pieces = pieces[:-1]
    return [Unit(passage=passage, position=k, text=t, kind=kind)
            for k, (kind, t) in enumerate(pieces)]


def heading_paths(text: str, separator: str) -> dict[str, str]:
    """Each block of ``text`` (a list, table or code block) -> the path of the Markdown headings
    it sits under, joined as the chunker joins a chunk's (``knowledge.chunking.HEADING_SEPARATOR``)."""
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for kind, body in _blocks(text):
        if kind == "heading":
            level = len(body) - len(body.lstrip("#"))
            stack = [(n, h) for n, h in stack if n < level] + [(level, body.lstrip("#").strip())]
        elif kind == "block" and stack:
            out.setdefault(body, separator.join(h for _, h in stack))
    return out


def clip_words(text: str, limit: int) -> str:
    """A verbatim prefix of ``text`` of at most ``limit`` words (whole lines for a block), with
    an ellipsis when cut: a 300-word sentence or a long table is quoted, not dropped."""
    words = text.split(" ")
    if len(text.split()) <= limit:
        return text
    if "\n" in text:
        kept: list[str] = []
        count = 0
        for line in text.split("\n"):
            n = len(line.split())
            if kept and count + n > limit:
                break
            kept.append(line)
            count += n
        if len(kept) > 1 or count <= limit:
            closing = "\n```" if kept[0].strip().startswith("```") else ""
            return "\n".join(kept) + "\n…" + closing
        words = kept[0].split(" ")
    out: list[str] = []
    count = 0
    for w in words:
        count += bool(w)
        if count > limit:
            break
        out.append(w)
    return " ".join(out).rstrip(",;:") + " …"
