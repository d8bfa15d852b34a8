"""When to say "I could not find this" instead of answering.

The evidence of a retrieval is the best cosine similarity between the question and any chunk
it returned; below ``ABSTAIN_THRESHOLD`` the bot abstains. The default was calibrated on
SciFact train claims (answerable: their relevant abstract retrieved; unanswerable: the same
claims with the relevant abstracts removed, plus off-topic questions), see
``benchmarks/calibrate_abstention.py``. A second, sentence-level test now follows it: the
extractive synthesiser abstains when no sentence of the passages answers. With the answer
reader (``ANSWER_READER``, the default) that is the reader's own calibrated threshold on its best
score; without it, the best sentence's similarity (``ANSWER_MIN_SUPPORT``). Calibrated on
squad2-dev (``benchmarks/calibrate_reader.py``, ``benchmarks/calibrate_answers.py``), it took
over, and ``ABSTAIN_THRESHOLD`` defaults to 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.store.search import SearchHit

ABSTAIN_TEXT = (
    "I could not find this in the knowledge base. The closest sources I found are below; "
    "they may not answer your question."
)
NO_SOURCES_TEXT = "I could not find this in the knowledge base, and nothing close to it either."


def evidence(hits: Sequence[SearchHit]) -> float:
    """Best vector similarity among the hits (0 when only the keyword arm found anything)."""
    sims = [h.similarity for h in hits if h.similarity is not None]
    return max(sims) if sims else 0.0


def should_abstain(hits: Sequence[SearchHit], threshold: float) -> bool:
    return not hits or evidence(hits) < threshold
