"""Features of a candidate answer unit, and the linear scorer that combines them.

All features come from what answering already has: the question, the retrieved passages with
their rank and retrieval similarity, the idf of terms *within the candidates* (BM25-style, so a
word every passage repeats counts for little), and the embedding model's question-sentence
cosine. The weights are a logistic regression fitted by ``benchmarks/calibrate_answers.py`` on
one article of squad2-dev (label: the unit contains a gold answer) and checked on the other;
``DEFAULT_WEIGHTS`` is that fit, rounded. A different set can be passed to the synthesiser.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from knowledge.synthesis.segments import Unit, terms

FEATURES = ("bias", "similarity", "coverage", "passage_coverage", "neighbour_coverage", "rank",
            "passage_similarity", "answer_type", "novelty", "length", "bigrams",
            "similarity_gap", "coverage_gap")
# Whether the best unit answers at all (the passages may be on topic without saying it): a
# second fit, over questions (label: answerable), on these features of the ranked candidates.
ANSWERABILITY = ("bias", "best_score", "best_similarity", "best_neighbour_coverage",
                 "best_passage_coverage", "unseen_terms", "evidence", "score_gap", "best_type")

# Fitted on squad2-dev "Normans" (benchmarks/answers_calibration.json, tuned_on Normans).
DEFAULT_WEIGHTS: dict[str, float] = {
    "bias": -5.116, "similarity": 1.482, "coverage": 1.282, "passage_coverage": 0.179,
    "neighbour_coverage": 0.945, "rank": 1.994, "passage_similarity": 0.429, "answer_type": 0.561,
    "novelty": -0.65, "length": 1.661, "bigrams": 0.874, "similarity_gap": 1.97,
    "coverage_gap": 1.698,
}
# The answerability score: the best unit's question similarity (a fit over all ANSWERABILITY
# features did not transfer between the two articles; see benchmarks/ANSWERS.md).
DEFAULT_ANSWERABILITY: dict[str, float] = {"best_similarity": 1.0}

_WORD = re.compile(r"\w+", re.UNICODE)
_NUMBER = re.compile(r"\b\d[\d,.]*\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|"
                     r"hundred|thousand|million|billion|dozen|half|twice)\b", re.I)
_YEAR = re.compile(r"\b(1\d{3}|20\d{2}|\d{1,2}(st|nd|rd|th))\b|\b(century|centuries|january|"
                   r"february|march|april|may|june|july|august|september|october|november|"
                   r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.I)
_CAPITAL = re.compile(r"(?<=\w[\s,;(])([A-Z][\w-]+)")


def answer_type(question: str) -> str | None:
    """What kind of thing the question asks for, when its wording says so."""
    q = question.lower()
    if re.search(r"\b(how (many|much|long|far|old|large|big)|what (percentage|number|amount))\b",
                 q):
        return "number"
    if re.search(r"\b(when|what (year|century|date|time|period|decade)|which (year|century))\b",
                 q):
        return "time"
    if re.search(r"\b(who|whom|whose)\b", q) or re.search(r"\bwhere\b", q):
        return "name"
    return None


def type_match(kind: str | None, text: str, question_words: set[str]) -> float:
    """+1 when the unit holds the kind of thing asked for, -1 when it does not, 0 unknown."""
    if kind is None:
        return 0.0
    if kind == "number":
        found = bool(_NUMBER.search(text))
    elif kind == "time":
        found = bool(_YEAR.search(text))
    else:
        found = any(w.lower() not in question_words for w in _CAPITAL.findall(text))
    return 1.0 if found else -1.0


def _idf(q_terms: set[str], bags: Sequence[set[str]]) -> dict[str, float]:
    n = len(bags)
    return {t: math.log(1 + (n - df + 0.5) / (df + 0.5))
            for t in q_terms for df in [sum(t in b for b in bags)]}


def _bigrams(words: Sequence[str]) -> set[tuple[str, str]]:
    return set(zip(words, words[1:], strict=False))


def feature_matrix(question: str, cands: Sequence[Unit],
                   passage_similarity: Sequence[float | None]) -> tuple[np.ndarray, list[set[str]]]:
    """(features without ``similarity``, each candidate's question terms) for ``cands``."""
    q_terms = set(terms(question))
    q_words = {w.lower() for w in _WORD.findall(question)}
    q_bigrams = _bigrams([w.lower() for w in _WORD.findall(question)])
    bags = [set(terms(u.text)) for u in cands]
    idf = _idf(q_terms, bags)
    mass = sum(idf.values()) or 1.0
    kind = answer_type(question)
    by_passage: dict[int, set[str]] = {}
    for u, bag in zip(cands, bags, strict=True):
        by_passage.setdefault(u.passage, set()).update(bag)
    index = {(u.passage, u.position): i for i, u in enumerate(cands)}
    x = np.zeros((len(cands), len(FEATURES)), dtype=np.float64)
    matched: list[set[str]] = []
    col = {f: i for i, f in enumerate(FEATURES)}
    for i, (u, bag) in enumerate(zip(cands, bags, strict=True)):
        hit = q_terms & bag
        matched.append(hit)
        around = set(bag)
        for d in (-1, 1):
            j = index.get((u.passage, u.position + d))
            if j is not None:
                around |= bags[j]
        words = [w.lower() for w in _WORD.findall(u.text)]
        content = {stem_w for stem_w in bag}
        x[i, col["bias"]] = 1.0
        x[i, col["coverage"]] = sum(idf[t] for t in hit) / mass
        x[i, col["passage_coverage"]] = sum(idf[t] for t in q_terms & by_passage[u.passage]) / mass
        x[i, col["neighbour_coverage"]] = sum(idf[t] for t in q_terms & around) / mass
        x[i, col["rank"]] = 1.0 / (1 + u.passage)
        sim = passage_similarity[u.passage] if u.passage < len(passage_similarity) else None
        x[i, col["passage_similarity"]] = sim or 0.0
        x[i, col["answer_type"]] = type_match(kind, u.text, q_words)
        x[i, col["novelty"]] = len(content - q_terms) / max(1, len(content))
        x[i, col["length"]] = math.log1p(len(words)) / 4
        x[i, col["bigrams"]] = min(1.0, len(q_bigrams & _bigrams(words)) / max(1, len(q_bigrams)))
    # Pointwise weights rank better on features relative to the question's best candidate.
    x[:, col["coverage_gap"]] = x[:, col["coverage"]] - x[:, col["coverage"]].max()
    return x, matched


def fill_similarity(x: np.ndarray) -> None:
    """After the similarity column is set: its gap to the best candidate's."""
    col = FEATURES.index("similarity")
    x[:, FEATURES.index("similarity_gap")] = x[:, col] - x[:, col].max()


def unseen_share(question: str, cands: Sequence[Unit]) -> float:
    """Share of the question's terms that no candidate contains (a swapped name or number is
    the usual sign the sources do not say it)."""
    q_terms = set(terms(question))
    if not q_terms:
        return 0.0
    seen = set().union(*(set(terms(u.text)) for u in cands)) if cands else set()
    return len(q_terms - seen) / len(q_terms)


def answerability_row(*, scores: np.ndarray, x: np.ndarray, best: int, unseen: float,
                      evidence: float) -> np.ndarray:
    col = {f: i for i, f in enumerate(FEATURES)}
    second = np.partition(scores, -2)[-2] if len(scores) > 1 else scores[best] - 1.0
    return np.array([1.0, scores[best], x[best, col["similarity"]],
                     x[best, col["neighbour_coverage"]], x[:, col["passage_coverage"]].max(),
                     unseen, evidence, scores[best] - second, x[best, col["answer_type"]]])


def weight_vector(weights: Mapping[str, float], names: Sequence[str] = FEATURES) -> np.ndarray:
    return np.array([float(weights.get(f, 0.0)) for f in names])


# The same fit (same data) without the two similarity features: the term score that picks what
# the answer reader reads (knowledge.synthesis.reader), when no sentence is embedded
# (calibrate_answers.py, ``lexical_weights`` of the direction tuned on Normans).
LEXICAL_WEIGHTS: dict[str, float] = {
    "bias": -4.721, "coverage": 1.881, "passage_coverage": 0.024, "neighbour_coverage": 0.919,
    "rank": 2.188, "passage_similarity": 1.147, "answer_type": 0.591, "novelty": -1.401,
    "length": 1.759, "bigrams": 1.253, "coverage_gap": 2.131,
}
