"""Which synthesizer answers: extractive, or an LLM that falls back to extractive.

Separate from the package's types so that ``llm`` and ``extractive`` import the package and the
package imports neither (no import circle).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from knowledge.synthesis import Synthesizer
from knowledge.synthesis.extractive import ExtractiveSynthesizer
from knowledge.synthesis.llm import LLMConfig, LLMSynthesizer

Embed = Callable[[Sequence[str]], Any]  # texts -> unit vectors (the retriever's Embedder.embed)


def build_synthesizer(llm: LLMConfig, *, max_sentences: int, embed: Embed | None = None,
                      min_support: float = 0.377, extra_margin: float = 1.5,
                      max_words: int = 80) -> Synthesizer:
    """The extractive synthesizer, or an LLM one that falls back to it (provider ``extractive``:
    no LLM at all). ``embed`` lets the extractive answer compare sentences with the question
    (without it, terms and rank decide); the thresholds are calibrated (benchmarks/ANSWERS.md)."""
    extractive = ExtractiveSynthesizer(max_sentences=max_sentences, embed=embed,
                                       min_support=min_support, extra_margin=extra_margin,
                                       max_words=max_words)
    if llm.provider == "extractive":
        return extractive
    return LLMSynthesizer.from_config(llm, fallback=extractive)
