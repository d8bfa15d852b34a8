"""BASELINE ONLY: the token-presence guard finetune/guard.py had before the claim-level one
(issue 15), kept verbatim so benchmarks/bench_guard.py can time and score both in one run.

:func:`check` rejects a rewrite that drops or invents a ``[n]`` citation marker, or that adds a
number, URL, e-mail, code identifier (``snake_case``, ``camelCase``, ``dotted.names``,
```backticked```) or a capitalised name found neither in the draft nor in its sources.
Capitals that start a sentence, a line or a list item are ordinary words, not names. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_MARKER = re.compile(r"\[(\d+)\]")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]\"'`]+", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_BACKTICK = re.compile(r"`([^`\n]+)`")
_SNAKE = re.compile(r"\b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+\b")
_CAMEL = re.compile(r"\b[a-z]+[A-Z][A-Za-z0-9]*\b")
_DOTTED = re.compile(r"\b[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+\b")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_LIST_NUMBER = re.compile(r"(?m)^\s*\d+[.)]\s")
_CAPITALISED = re.compile(r"\b[A-Z][\w'-]*")
# What may come right before the first word of a sentence, a line or a list item.
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n\s*|^\s*(?:[-*•]|\d+[.)])\s+)[\"'(*_>#\s-]*$")
_ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "cf"}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str | None = None


def _tokens(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[\w'-]+", text)}


def _strip(text: str) -> str:
    """Text without URLs, e-mails and markers, so their digits are not read as numbers."""
    return _MARKER.sub(" ", _EMAIL.sub(" ", _URL.sub(" ", text)))


def _names(text: str) -> set[str]:
    found = set()
    for m in _CAPITALISED.finditer(text):
        before = text[: m.start()]
        if _SENTENCE_START.search(before) or m.group() == "I":
            continue
        found.add(m.group().rstrip("'-"))
    return found


def _identifiers(text: str) -> set[str]:
    found = {m.group(1).strip() for m in _BACKTICK.finditer(text)}
    for pattern in (_SNAKE, _CAMEL, _DOTTED):
        found.update(m.group() for m in pattern.finditer(_URL.sub(" ", _EMAIL.sub(" ", text))))
    return {f for f in found if f.lower().rstrip(".") not in _ABBREVIATIONS and f}


def _new(items: Iterable[str], allowed_text: str, allowed_lower: str) -> list[str]:
    return sorted({i for i in items if i not in allowed_text and i.lower() not in allowed_lower})


def check(rewrite: str, *, draft: str, sources: Iterable[str] = ()) -> Verdict:
    """Accept ``rewrite`` only if it keeps every citation and adds no checkable fact."""
    if not rewrite.strip():
        return Verdict(False, "empty rewrite")
    draft_markers = set(_MARKER.findall(draft))
    rewrite_markers = set(_MARKER.findall(rewrite))
    if dropped := sorted(draft_markers - rewrite_markers, key=int):
        return Verdict(False, "drops citation " + ", ".join(f"[{n}]" for n in dropped))
    if invented := sorted(rewrite_markers - draft_markers, key=int):
        return Verdict(False, "invents citation " + ", ".join(f"[{n}]" for n in invented))

    allowed = "\n".join([draft, *sources])
    allowed_lower = allowed.lower()
    checks = [
        ("a URL", [u.rstrip(".,;:!?") for u in _URL.findall(rewrite)]),
        ("an e-mail", _EMAIL.findall(rewrite)),
        ("a code identifier", _identifiers(rewrite)),
    ]
    for kind, items in checks:
        if new := _new(items, allowed, allowed_lower):
            return Verdict(False, f"adds {kind} not in the draft or its sources: {new[0]}")

    allowed_numbers = set(_NUMBER.findall(_strip(allowed)))
    numbers = set(_NUMBER.findall(_LIST_NUMBER.sub("\n", _strip(rewrite))))
    if new := sorted(numbers - allowed_numbers):
        return Verdict(False, f"adds a number not in the draft or its sources: {new[0]}")

    allowed_words = _tokens(allowed)
    if new := sorted(n for n in _names(_strip(rewrite)) if n.lower() not in allowed_words):
        return Verdict(False, f"adds a name not in the draft or its sources: {new[0]}")
    return Verdict(True)
