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


def _starts_document(passage: Passage) -> bool:
    hits = getattr(passage, "hits", None)
    return not hits or getattr(hits[0], "ordinal", 0) == 0


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
        split = [answerable_sentences(p.text, starts_document=_starts_document(p)) for p in passages]
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
