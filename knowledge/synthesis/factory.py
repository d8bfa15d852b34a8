"""Which synthesizer answers: extractive, or an LLM that falls back to extractive.

Separate from the package's types so that ``llm`` and ``extractive`` import the package and the
package imports neither (no import circle).
"""

from __future__ import annotations

from knowledge.synthesis import Synthesizer
from knowledge.synthesis.extractive import ExtractiveSynthesizer
from knowledge.synthesis.llm import LLMConfig, LLMSynthesizer


def build_synthesizer(llm: LLMConfig, *, max_sentences: int) -> Synthesizer:
    """The extractive synthesizer, or an LLM one that falls back to it (provider ``extractive``:
    no LLM at all)."""
    extractive = ExtractiveSynthesizer(max_sentences=max_sentences)
    if llm.provider == "extractive":
        return extractive
    return LLMSynthesizer.from_config(llm, fallback=extractive)
