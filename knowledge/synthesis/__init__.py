"""Turning retrieved passages into a short answer with ``[n]`` citation markers.

``extractive`` (default, no model) quotes the most relevant sentences; the LLM providers write
an answer from the numbered passages. Either way the result only cites passages that exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from knowledge.passages import Passage

MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")


@dataclass
class SynthesisResult:
    text: str
    provider: str
    model: str | None = None
    repaired: bool = False  # invalid markers were dropped from a generated answer
    fallback: str | None = None  # why a generated answer was replaced by the extractive one
    # The synthesiser's own judgement that the passages do not answer (the service abstains).
    abstain_reason: str | None = None
    confidence: float | None = None  # the answerability score the abstention compared
    timings_ms: dict[str, float] = field(default_factory=dict)
    streamed: bool = False  # the text was also sent piece by piece to a TextSink as it was written


# Receives the answer's text piece by piece (deltas, in order) while a model writes it. What it
# is sent is a draft: the final ``SynthesisResult.text`` is checked (markers repaired, or the
# extractive answer instead) and is what a chat surface must end with.
TextSink = Callable[[str], None]


class Synthesizer(Protocol):
    name: str

    def synthesize(self, question: str, passages: Sequence[Passage]) -> SynthesisResult: ...


@runtime_checkable
class StreamingSynthesizer(Protocol):
    """A synthesiser that can also hand out its text as it is produced (the LLM providers).

    The extractive answer is complete at once, so it has no such method and is posted whole.
    """

    name: str

    def synthesize(self, question: str, passages: Sequence[Passage]) -> SynthesisResult: ...

    def synthesize_stream(self, question: str, passages: Sequence[Passage], on_text: TextSink
                          ) -> SynthesisResult: ...


def cited_markers(text: str) -> list[int]:
    """Markers in order of first appearance; ``[1, 3]`` counts as 1 and 3."""
    seen: list[int] = []
    for m in MARKER.finditer(text):
        for part in m.group(1).split(","):
            n = int(part.strip())
            if n not in seen:
                seen.append(n)
    return seen


def renumber(text: str, count: int) -> tuple[str, list[int]]:
    """Renumber the markers 1..m in order of appearance; returns the text and, for each new
    number, the old (1-based) passage number. Markers outside 1..count are dropped."""
    order = [n for n in cited_markers(text) if 1 <= n <= count]
    mapping = {old: new for new, old in enumerate(order, 1)}

    def sub(m: re.Match[str]) -> str:
        nums = [int(p.strip()) for p in m.group(1).split(",")]
        kept = [mapping[n] for n in nums if n in mapping]
        return "".join(f"[{k}]" for k in dict.fromkeys(kept))

    out = MARKER.sub(sub, text)
    out = re.sub(r"[ \t]+([.,;:!?])", r"\1", out)
    return re.sub(r"[ \t]{2,}", " ", out).strip(), order
