"""Turning retrieved passages into a short answer with ``[n]`` citation markers.

``extractive`` (default, no model) quotes the most relevant sentences; the LLM providers write
an answer from the numbered passages. Either way the result only cites passages that exist.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

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


class Synthesizer(Protocol):
    name: str

    def synthesize(self, question: str, passages: Sequence[Passage]) -> SynthesisResult: ...


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


def synthesizer_from_settings(settings: Any, *, embed: Any = None) -> Synthesizer:
    """``embed`` (texts -> unit vectors, e.g. the retriever's ``Embedder.embed``) lets the
    extractive answer compare sentences with the question; without it, terms and rank decide."""
    from knowledge.synthesis.extractive import ExtractiveSynthesizer

    extractive = ExtractiveSynthesizer(
        max_sentences=settings.answer_max_sentences, embed=embed,
        min_support=getattr(settings, "answer_min_support", 0.377),
        extra_margin=getattr(settings, "answer_extra_margin", 0.25),
        max_words=getattr(settings, "answer_max_words", 80))
    if settings.llm_provider == "extractive":
        return extractive
    from knowledge.synthesis.llm import LLMSynthesizer

    return LLMSynthesizer.from_settings(settings, fallback=extractive)
