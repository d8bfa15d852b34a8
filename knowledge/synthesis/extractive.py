"""The model-free answer: the passages' own sentence that best answers the question, first.

Candidates are the retrieved passages' units (sentences, or whole lists/tables/code blocks;
``knowledge.synthesis.segments``). Each is scored (``knowledge.synthesis.scoring``) with what is
already loaded: the embedding model's question-sentence similarity (the plausible candidates in
one batch), the question's rare terms it and its passage contain (idf computed inside the
candidates, so a word every passage repeats counts for little), whether it holds the kind of
thing asked for (a number, a date, a name), and its passage's retrieval rank and similarity.
The best unit leads; a second or third follows only when it scores close to the best and brings
something the lead lacks (question terms it does not contain, or another source's statement).
Units are quoted verbatim with their ``[n]``, so the answer can never state something no source
says.

With an answer reader (``knowledge.synthesis.reader``, the default through ``ANSWER_READER``)
nothing is embedded: the term features alone pick the few plausible units, the reader scores
each with the question, and its calibrated policy decides the lead, the second unit and the
abstention (``benchmarks/ANSWERS.md``, update 3). Either way, a unit that says the opposite of
a wh-question (``knowledge.synthesis.contradiction``) is not taken as its answer.

When even the best unit scores below ``min_support`` the passages are on topic but do not say
it: the result is empty with an ``abstain_reason`` and the service abstains, listing the
closest sources.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.passages import Passage
from knowledge.synthesis import SynthesisResult
from knowledge.synthesis.contradiction import contradiction
from knowledge.synthesis.reader import ReaderPolicy, unit_input
from knowledge.synthesis.scoring import (
    ANSWERABILITY,
    DEFAULT_ANSWERABILITY,
    DEFAULT_WEIGHTS,
    FEATURES,
    LEXICAL_WEIGHTS,
    answerability_row,
    feature_matrix,
    fill_similarity,
    unseen_share,
    weight_vector,
)
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
# (question, reader inputs) -> one logit per input: knowledge.synthesis.reader.AnswerReader.score
ReadFn = Callable[[str, Sequence[str]], np.ndarray]



# Only this many candidates (the best by the other features) are embedded: the similarity
# decides between plausible sentences, and a forward pass per sentence of five passages would
# cost more than the whole search. 4, 5, 6 and 8 gave the same answers on the tuning article.
EMBED_CANDIDATES = 5
# Sentence vectors are kept (by text) for reuse: a team asks about the same pages again and
# again, and a cached sentence costs nothing to compare.
VECTOR_CACHE = 20_000
# What a read unit that says the question's opposite loses (reader logits span about -10..10).
CONTRADICTION_PENALTY = 100.0
# Without a reader, only the best-scored units are checked: the lead and what could follow it.
CONTRADICTION_CHECKED = 8
# Share of terms two sentences of different sources must share to count as the same statement.
RESTATES_OVERLAP = 0.6


@dataclass
class Scored:
    unit: Unit
    score: float
    similarity: float
    coverage: float  # share of the question's idf mass the unit contains
    matched: frozenset[str]
    answer_type: float = 0.0  # +1 holds the kind of thing asked for, -1 does not, 0 unknown


def _starts_document(passage: Passage) -> bool:
    hits = getattr(passage, "hits", None)
    return not hits or getattr(hits[0], "ordinal", 0) == 0


def _restates(lead_terms: set[str], lead: Unit, other: Unit) -> bool:
    """Another source stating nearly the same thing in other words (often a contradiction:
    another time, another number): the reader should see both, each cited."""
    if other.passage == lead.passage or other.text == lead.text:
        return False
    mine = set(terms(other.text))
    union = lead_terms | mine
    return bool(union) and len(lead_terms & mine) / len(union) >= RESTATES_OVERLAP


class _VectorCache:
    def __init__(self, embed: EmbedFn, size: int) -> None:
        self.embed = embed
        self.size = size
        self.vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, question: str, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(question vector, text vectors): the question and every uncached text in one batch."""
        with self.lock:
            todo = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        vecs = self.embed([question, *todo])
        with self.lock:
            for t, v in zip(todo, vecs[1:], strict=True):
                self.vectors[t] = v
            for t in texts:
                self.vectors.move_to_end(t)
            out = np.stack([self.vectors[t] for t in texts])
            while len(self.vectors) > self.size:
                self.vectors.popitem(last=False)
        return vecs[0], out


def _demote_contradictions(question: str, cands: Sequence[Unit], scores: np.ndarray
                           ) -> np.ndarray:
    """Without a reader: the best-scored units that say the question's opposite drop just below
    every other unit (not by the reader's penalty: the answerability row reads the gap between
    the two best scores, and a gap of 100 would read as certainty)."""
    top = np.argsort(-scores, kind="stable")[:CONTRADICTION_CHECKED]
    opposite = top[_contradicting(question, cands, top)]
    if not len(opposite) or len(opposite) == len(scores):
        return scores
    out = scores.copy()
    floor = float(np.delete(out, opposite).min())
    out[opposite] = floor - 1.0 - np.arange(len(opposite)) * 1e-3  # their order, below the rest
    return out


def _contradicting(question: str, cands: Sequence[Unit], idx: np.ndarray) -> np.ndarray:
    """Which of the units at ``idx`` say the question's opposite (both answer paths ask)."""
    return np.array([contradiction(question, cands[int(i)].text) is not None for i in idx],
                    dtype=bool)


def _heading_of(passage: Passage, unit: Unit) -> str | None:
    """The section heading of the chunk the unit's text is in (a passage merges neighbouring
    chunks, each under its own heading)."""
    hits = getattr(passage, "hits", None) or []
    # A unit's text is unwrapped (hard-wrapped lines joined), so only its start up to the first
    # joined line is verbatim in the passage: try shorter prefixes of its first line.
    first = unit.text.split("\n", 1)[0]
    where = next((w for n in (80, 40, 20) if (w := passage.text.find(first[:n])) >= 0), -1)
    at, heading = 0, None
    for h in hits:
        if where >= at:
            heading = getattr(h, "heading_path", "") or None
        at += len(h.text) + 1
    return heading


class ExtractiveSynthesizer:
    name = "extractive"

    def __init__(self, *, max_sentences: int = 3, embed: EmbedFn | None = None,
                 min_support: float = 0.0, extra_margin: float = 0.25, max_words: int = 80,
                 weights: Mapping[str, float] | None = None,
                 answerability: Mapping[str, float] | None = None,
                 type_margin: float = 1.0, cache_vectors: bool = True,
                 reader: ReadFn | None = None, reader_policy: ReaderPolicy | None = None,
                 lexical_weights: Mapping[str, float] | None = None) -> None:
        self.max_sentences = max(1, max_sentences)
        # With a reader the sentence embeddings are not needed: the term features choose what
        # it reads and its logits decide (benchmarks/ANSWERS.md compares the two).
        self.reader = reader
        self.policy = reader_policy or ReaderPolicy()
        self._lex = weight_vector(dict(lexical_weights or LEXICAL_WEIGHTS))
        if reader is not None:
            embed = None
            extra_margin = self.policy.extra_margin
            min_support = self.policy.min_score
        self.embed = embed
        self._vectors = _VectorCache(embed, VECTOR_CACHE if cache_vectors else 0) \
            if embed is not None else None
        self.min_support = min_support
        self.extra_margin = extra_margin
        self.type_margin = type_margin
        self.max_words = max(10, max_words)
        self.weights = dict(weights or DEFAULT_WEIGHTS)
        self._w = weight_vector(self.weights)
        self.answerability = dict(answerability or DEFAULT_ANSWERABILITY)
        self._a = weight_vector(self.answerability, ANSWERABILITY)

    # --- scoring ---
    def candidates(self, passages: Sequence[Passage]) -> list[Unit]:
        return [u for pi, p in enumerate(passages)
                for u in units(p.text, pi, starts_document=_starts_document(p))]

    def features(self, question: str, passages: Sequence[Passage]
                 ) -> tuple[list[Unit], np.ndarray, list[set[str]]]:
        """Candidates and their feature rows (``similarity`` filled for the embedded ones)."""
        cands = self.candidates(passages)
        if not cands:
            return [], np.zeros((0, len(FEATURES))), []
        x, matched = feature_matrix(question, cands, [p.similarity for p in passages])
        if self._vectors is not None:
            sim_col = FEATURES.index("similarity")
            top = np.argsort(-(x @ self._w), kind="stable")[:EMBED_CANDIDATES]
            q_vec, vecs = self._vectors(question, [clip_words(cands[i].text, 80) for i in top])
            sims = vecs @ q_vec
            x[top, sim_col] = sims
            rest = np.setdiff1d(np.arange(len(cands)), top)
            # Not embedded: judged less plausible already; they get the lowest similarity seen.
            x[rest, sim_col] = float(sims.min())
        fill_similarity(x)
        return cands, x, matched

    def score(self, question: str, passages: Sequence[Passage]) -> list[Scored]:
        """Every candidate unit with its score, best first."""
        return self.rank(question, passages)[0]

    def rank(self, question: str, passages: Sequence[Passage]
             ) -> tuple[list[Scored], np.ndarray | None]:
        """(candidates best first, the answerability feature row or None)."""
        cands, x, matched = self.features(question, passages)
        if not cands:
            return [], None
        if self.reader is not None:
            scores, confidence = self._read(question, cands, x, passages)
            row = np.array([confidence])
        else:
            scores = x @ self._w
            if self.policy.contradictions:
                scores = _demote_contradictions(question, cands, scores)
            evidence = max([p.similarity for p in passages if p.similarity is not None]
                           or [0.0])
            row = answerability_row(scores=scores, x=x, best=int(np.argmax(scores)),
                                    unseen=unseen_share(question, cands), evidence=evidence)
        sim_col, cov_col = FEATURES.index("similarity"), FEATURES.index("coverage")
        type_col = FEATURES.index("answer_type")
        out = [Scored(unit=u, score=float(scores[i]), similarity=float(x[i, sim_col]),
                      coverage=float(x[i, cov_col]), matched=frozenset(matched[i]),
                      answer_type=float(x[i, type_col]))
               for i, u in enumerate(cands)]
        return sorted(out, key=lambda s: (-s.score, s.unit.passage, s.unit.position)), row

    def _read(self, question: str, cands: Sequence[Unit], x: np.ndarray,
              passages: Sequence[Passage]) -> tuple[np.ndarray, float]:
        """(scores, answerability score: see ``policy.pool``): the reader reads the term
        features' top candidates; the rest rank below every one it read, in term-score order. A
        unit is read with the sentence before it; a list, table or code block with its own
        section's heading instead (what a block is about is usually in its heading, not in the
        sentence above it)."""
        assert self.reader is not None
        lex = x @ self._lex
        top = np.argsort(-lex, kind="stable")[:max(1, self.policy.candidates)]
        where = {(u.passage, u.position): i for i, u in enumerate(cands)}
        texts = []
        for i in top:
            u = cands[i]
            prev = where.get((u.passage, u.position - 1))
            heading = _heading_of(passages[u.passage], u) if u.kind == "block" else None
            texts.append(unit_input(u, cands[prev].text if prev is not None else None, heading))
        read = np.asarray(self.reader(question, texts), dtype=np.float64)
        if self.policy.contradictions:
            # Below every unit that does not contradict, above every unread one.
            opposite = _contradicting(question, cands, top)
            read = np.where(opposite, read - CONTRADICTION_PENALTY, read)
        scores = lex - lex.max() + float(np.min(read + self.policy.lexical_weight * lex[top])) \
            - 1e3
        scores[top] = read + self.policy.lexical_weight * lex[top]
        if self.policy.pool == "sum":
            best = float(scores[top].max())
            return scores, best + float(np.log(np.exp(scores[top] - best).sum()))
        return scores, float(scores[top].max())

    # --- assembly ---
    def _span(self, best: Scored, cands: Sequence[Scored]) -> list[Unit]:
        """The unit, preceded by the sentence it leans on when it cannot stand alone."""
        u = best.unit

        def at(position: int) -> Unit | None:
            return next((c.unit for c in cands if c.unit.passage == u.passage
                         and c.unit.position == position), None)

        prev, nxt = at(u.position - 1), at(u.position + 1)
        # "To set up the bot:" introduces the list after it; the pair is one statement.
        if u.kind == "sentence" and u.text.endswith(":") and nxt is not None \
                and nxt.kind == "block":
            return [u, nxt]
        if u.kind == "block" and prev is not None and prev.kind == "sentence" \
                and prev.text.endswith(":"):
            return [prev, u]
        if u.dependent and prev is not None and prev.kind == "sentence":
            return [prev, u]
        return [u]

    def synthesize(self, question: str, passages: Sequence[Passage]) -> SynthesisResult:
        t0 = time.perf_counter()
        scored, row = self.rank(question, passages)
        if not scored or row is None:
            return SynthesisResult(text="", provider=self.name,
                                   abstain_reason="no quotable sentence in the passages")
        best = scored[0]
        # The answerability score needs the similarity signal; without an embedding function
        # (tests, a trimmed install) only the retrieval evidence decides.
        if self.reader is not None:
            confidence: float | None = float(row[0])
        else:
            confidence = float(row @ self._a) if self.embed is not None else None
        if confidence is not None and confidence < self.min_support:
            return SynthesisResult(
                text="", provider=self.name, confidence=round(confidence, 4),
                abstain_reason="no sentence of the passages answers the question",
                timings_ms={"extract": (time.perf_counter() - t0) * 1000})
        spans = [self._span(best, scored)]
        used = {(u.passage, u.position) for u in spans[0]}
        covered = set().union(*(set(terms(u.text)) for u in spans[0]))
        budget = self.max_words - sum(len(u.text.split()) for u in spans[0])
        lead_terms = set(terms(best.unit.text))
        for cand in scored[1:]:
            if len(spans) >= self.max_sentences:
                break
            if (cand.unit.passage, cand.unit.position) in used:
                continue
            # The lead lacks the kind of thing asked for ("how long" and no number): a close
            # unit that has it adds exactly what is missing.
            adds_type = best.answer_type < 0 < cand.answer_type \
                and cand.score >= best.score - self.type_margin
            if cand.score < best.score - self.extra_margin and not adds_type \
                    and not _restates(lead_terms, best.unit, cand.unit):
                continue
            span = self._span(cand, scored)
            words = sum(len(u.text.split()) for u in span)
            new_terms = cand.matched - covered
            other_source = all(cand.unit.passage != s[0].passage for s in spans)
            if words > budget or not (new_terms or other_source or adds_type):
                continue
            spans.append(span)
            used |= {(u.passage, u.position) for u in span}
            covered |= set().union(*(set(terms(u.text)) for u in span))
            budget -= words
        text = ""
        for piece in (self._render(span) for span in spans):
            # a quoted block ends its line: what follows starts the next line, not with a space
            text = piece if not text else text + ("" if text.endswith("\n") else " ") + piece
        return SynthesisResult(text=text.strip(), provider=self.name,
                               confidence=None if confidence is None else round(confidence, 4),
                               timings_ms={"extract": (time.perf_counter() - t0) * 1000})

    def _render(self, span: Sequence[Unit]) -> str:
        marker = f"[{span[0].passage + 1}]"
        if span[-1].kind == "block":
            intro = " ".join(u.text for u in span[:-1])
            block = clip_words(span[-1].text, max(10, self.max_words - len(intro.split())))
            return f"\n{intro}\n{block}\n{marker}\n".replace("\n\n", "\n")
        body = " ".join(clip_words(u.text, self.max_words) for u in span)
        return f"{body} {marker}"
