"""The model-free answer: the passages' own sentence that best answers the question, first.

Candidates are the retrieved passages' units (sentences, or whole lists/tables/code blocks;
``knowledge.synthesis.segments``). Each is scored with what is already loaded: the embedding
model's question-sentence similarity (all candidates in one batch), the question's rare terms it
contains (BM25-style idf computed inside the candidates, so a word every passage repeats counts
for little) and its passage's retrieval rank. The best unit leads; a second or third follows
only when it scores close to the best and brings something the lead lacks (question terms it
does not contain, or another source's statement). Units are quoted verbatim with their ``[n]``,
so the answer can never state something no source says.

When even the best unit scores below ``min_support`` the passages are on topic but do not say
it: the result is empty with an ``abstain_reason`` and the service abstains, listing the
closest sources.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.passages import Passage
from knowledge.synthesis import SynthesisResult
from knowledge.synthesis.segments import (  # noqa: F401 - re-exported: the public helpers
    Unit,
    answerable_sentences,
    clip_words,
    sentences,
    stem,
    terms,
    units,
    unwrap,
)

EmbedFn = Callable[[Sequence[str]], np.ndarray]

# Only this many candidates (the best by terms and rank) are embedded: the similarity decides
# between plausible sentences, and embedding every sentence of five passages would cost more
# than the whole search.
EMBED_CANDIDATES = 12


@dataclass(frozen=True)
class Weights:
    """How the three signals combine (calibrated in benchmarks/calibrate_answers.py)."""

    similarity: float = 1.0
    terms: float = 0.6
    rank: float = 0.15


@dataclass
class Scored:
    unit: Unit
    score: float
    similarity: float
    coverage: float  # share of the question's idf mass the unit contains
    matched: frozenset[str]


def _starts_document(passage: Passage) -> bool:
    hits = getattr(passage, "hits", None)
    return not hits or getattr(hits[0], "ordinal", 0) == 0


def _idf(q_terms: set[str], bags: Sequence[set[str]]) -> dict[str, float]:
    n = len(bags)
    return {t: math.log(1 + (n - df + 0.5) / (df + 0.5))
            for t in q_terms for df in [sum(t in b for b in bags)]}


class ExtractiveSynthesizer:
    name = "extractive"

    def __init__(self, *, max_sentences: int = 3, embed: EmbedFn | None = None,
                 min_support: float = 0.0, extra_margin: float = 0.1, max_words: int = 80,
                 weights: Weights | None = None) -> None:
        self.max_sentences = max(1, max_sentences)
        self.embed = embed
        self.min_support = min_support
        self.extra_margin = extra_margin
        self.max_words = max(10, max_words)
        self.weights = weights or Weights()

    # --- scoring ---
    def score(self, question: str, passages: Sequence[Passage]) -> list[Scored]:
        """Every candidate unit with its score, best first."""
        cands = [u for pi, p in enumerate(passages)
                 for u in units(p.text, pi, starts_document=_starts_document(p))]
        if not cands:
            return []
        q_terms = set(terms(question))
        bags = [set(terms(u.text)) for u in cands]
        idf = _idf(q_terms, bags)
        mass = sum(idf.values()) or 1.0
        w = self.weights
        pre = []
        for u, bag in zip(cands, bags, strict=True):
            matched = frozenset(q_terms & bag)
            coverage = sum(idf[t] for t in matched) / mass
            pre.append(Scored(unit=u, score=w.terms * coverage + w.rank / (1 + u.passage),
                              similarity=0.0, coverage=coverage, matched=matched))
        pre.sort(key=lambda s: -s.score)
        if self.embed is not None:
            top = pre[:EMBED_CANDIDATES]
            vecs = self.embed([question] + [clip_words(s.unit.text, 120) for s in top])
            sims = vecs[1:] @ vecs[0]
            for s, sim in zip(top, sims, strict=True):
                s.similarity = float(sim)
                s.score += w.similarity * s.similarity
            # The rest were not embedded: they keep their lower bound, below every embedded one
            # of equal terms, which is what the prefilter already judged.
        return sorted(pre, key=lambda s: (-s.score, s.unit.passage, s.unit.position))

    # --- assembly ---
    def _span(self, best: Scored, cands: Sequence[Scored]) -> list[Unit]:
        """The unit, preceded by the sentence it leans on when it cannot stand alone."""
        u = best.unit
        if u.dependent and u.position > 0:
            prev = next((c.unit for c in cands if c.unit.passage == u.passage
                         and c.unit.position == u.position - 1), None)
            if prev is not None and prev.kind == "sentence":
                return [prev, u]
        return [u]

    def synthesize(self, question: str, passages: Sequence[Passage]) -> SynthesisResult:
        t0 = time.perf_counter()
        scored = self.score(question, passages)
        if not scored:
            return SynthesisResult(text="", provider=self.name,
                                   abstain_reason="no quotable sentence in the passages")
        best = scored[0]
        confidence = best.score
        if confidence < self.min_support:
            return SynthesisResult(
                text="", provider=self.name, confidence=round(confidence, 4),
                abstain_reason="no sentence of the passages answers the question",
                timings_ms={"extract": (time.perf_counter() - t0) * 1000})
        spans = [self._span(best, scored)]
        used = {(u.passage, u.position) for u in spans[0]}
        covered = set().union(*(set(terms(u.text)) for u in spans[0]))
        budget = self.max_words - sum(len(u.text.split()) for u in spans[0])
        for cand in scored[1:]:
            if len(spans) >= self.max_sentences or cand.score < best.score - self.extra_margin:
                break
            if (cand.unit.passage, cand.unit.position) in used:
                continue
            span = self._span(cand, scored)
            words = sum(len(u.text.split()) for u in span)
            new_terms = cand.matched - covered
            other_source = all(cand.unit.passage != s[0].passage for s in spans)
            if words > budget or not (new_terms or other_source):
                continue
            spans.append(span)
            used |= {(u.passage, u.position) for u in span}
            covered |= set().union(*(set(terms(u.text)) for u in span))
            budget -= words
        text = " ".join(self._render(span) for span in spans)
        return SynthesisResult(text=text.strip(), provider=self.name,
                               confidence=round(confidence, 4),
                               timings_ms={"extract": (time.perf_counter() - t0) * 1000})

    def _render(self, span: Sequence[Unit]) -> str:
        marker = f"[{span[0].passage + 1}]"
        if span[0].kind == "block":
            return f"\n{clip_words(span[0].text, self.max_words)}\n{marker}\n"
        body = " ".join(clip_words(u.text, self.max_words) for u in span)
        return f"{body} {marker}"
