"""The model-free answer: the passages' own sentences most relevant to the question.

Every sentence of the answer is copied verbatim from a passage and carries that passage's
``[n]`` marker, so the answer can never state something no source says.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Sequence

from knowledge.passages import Passage
from knowledge.synthesis import SynthesisResult

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


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT.split(text) if s and len(s.strip()) > 1]


def stem(word: str) -> str:
    w = word.lower()
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            return w[: -len(suffix)]
    return w


def terms(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text) if w.lower() not in _STOP]


class ExtractiveSynthesizer:
    name = "extractive"

    def __init__(self, *, max_sentences: int = 4, min_overlap: float = 0.0) -> None:
        self.max_sentences = max(1, max_sentences)
        self.min_overlap = min_overlap

    def synthesize(self, question: str, passages: Sequence[Passage]) -> SynthesisResult:
        t0 = time.perf_counter()
        q_terms = Counter(terms(question))
        candidates: list[tuple[float, int, int, str]] = []  # score, passage no, position, text
        doc_freq: Counter[str] = Counter()
        split = [sentences(p.text) for p in passages]
        for sents in split:
            for s in sents:
                doc_freq.update(set(terms(s)))
        total = max(1, sum(len(s) for s in split))
        for pi, sents in enumerate(split):
            prior = 1.0 / (1 + pi)  # the retriever's order is the strongest signal we have
            for si, s in enumerate(sents):
                st = set(terms(s))
                overlap = sum(math.log(1 + total / doc_freq[t]) for t in st if t in q_terms)
                score = overlap + 0.5 * prior - 0.02 * si
                candidates.append((score, pi, si, s))
        if not candidates:
            return SynthesisResult(text="", provider=self.name)
        best = sorted(candidates, key=lambda c: (-c[0], c[1], c[2]))[: self.max_sentences]
        # Keep at least the best sentence; drop further ones that share nothing with the question.
        chosen = [best[0]] + [c for c in best[1:] if c[0] - 0.5 / (1 + c[1]) + 0.02 * c[2] > 0]
        chosen.sort(key=lambda c: (c[1], c[2]))  # reads in source order
        text = " ".join(f"{c[3]} [{c[1] + 1}]" for c in chosen)
        return SynthesisResult(
            text=text, provider=self.name, timings_ms={"extract": (time.perf_counter() - t0) * 1000}
        )
