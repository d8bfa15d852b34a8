"""Answer-quality metrics for labelled questions (SQuAD 2.0 layout), free of any database.

A folder holds ``corpus.jsonl`` (``id``, ``title``, ``text``, ``url``: what ``lorebot sources
add --kind jsonl`` reads) and ``questions.jsonl`` (``id``, ``question``, ``answers``,
``is_impossible``, ``paragraph_id``). The runner (``bot.cli.eval_answers``) asks every question
and fills one :class:`Outcome` per question; everything here turns outcomes into numbers.

Matching follows SQuAD's answer normalisation (lower case, punctuation and the articles a/an/the
removed, whitespace collapsed): an answer *hits* when a normalised gold answer occurs, on word
boundaries, inside the normalised answer text; the ``[n]`` markers and the sources list are not
part of the text.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

_MARKERS = re.compile(r"\[\d{1,3}(?:\s*,\s*\d{1,3})*\]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
_WORD = re.compile(r"\w+", re.UNICODE)
# The classic sliding-window baseline counts content words; these carry no answer.
_STOP_WORDS = ("a an the of in on at to for from by with and or is are was were be been what which "
               "who whom whose when where why how did do does that this these those it its as "
               "into than then")
_STOP = frozenset(_STOP_WORDS.split())


class QADataError(ValueError):
    """The folder is not in the expected layout; the message says what is wrong."""


@dataclass(frozen=True)
class Paragraph:
    id: str
    title: str
    text: str
    url: str

    @property
    def article(self) -> str:
        """``Normans (3)`` -> ``Normans``: the article a paragraph belongs to."""
        return re.sub(r"\s*\(\d+\)\s*$", "", self.title).strip()


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    is_impossible: bool
    paragraph_id: str


@dataclass
class QAData:
    paragraphs: dict[str, Paragraph]
    questions: list[Question]

    def articles(self) -> list[str]:
        return sorted({p.article for p in self.paragraphs.values()})

    def select(self, split: str) -> list[Question]:
        """``all``, an article name (``Normans``), or ``not:ARTICLE`` for the rest."""
        if split in ("", "all"):
            return list(self.questions)
        negate = split.startswith("not:")
        name = split[4:] if negate else split
        if name not in self.articles():
            raise QADataError(f"no article {name!r}; articles: {', '.join(self.articles())}")
        return [q for q in self.questions
                if (self.paragraphs[q.paragraph_id].article == name) != negate]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise QADataError(f"{path} is missing")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise QADataError(f"{path}:{n} is not valid JSON ({exc.msg})") from exc
    return rows


def load_qa(folder: Path | str) -> QAData:
    folder = Path(folder)
    paragraphs: dict[str, Paragraph] = {}
    for n, row in enumerate(_read_jsonl(folder / "corpus.jsonl"), 1):
        if "id" not in row or "text" not in row:
            raise QADataError(f"corpus.jsonl line {n} needs \"id\" and \"text\"")
        pid = str(row["id"])
        paragraphs[pid] = Paragraph(id=pid, title=str(row.get("title") or pid),
                                    text=str(row["text"]), url=str(row.get("url") or ""))
    questions = []
    for n, row in enumerate(_read_jsonl(folder / "questions.jsonl"), 1):
        missing = [k for k in ("id", "question", "paragraph_id") if k not in row]
        if missing:
            raise QADataError(f"questions.jsonl line {n} lacks {', '.join(missing)}")
        if str(row["paragraph_id"]) not in paragraphs:
            raise QADataError(f"questions.jsonl line {n}: paragraph {row['paragraph_id']!r} is "
                              "not in corpus.jsonl")
        answers = tuple(str(a) for a in row.get("answers") or ())
        impossible = bool(row.get("is_impossible", not answers))
        if not impossible and not answers:
            raise QADataError(f"questions.jsonl line {n} is answerable but has no answers")
        questions.append(Question(id=str(row["id"]), question=str(row["question"]),
                                  answers=answers, is_impossible=impossible,
                                  paragraph_id=str(row["paragraph_id"])))
    if not questions:
        raise QADataError(f"{folder / 'questions.jsonl'} holds no questions")
    return QAData(paragraphs=paragraphs, questions=questions)


# --- text measures ----------------------------------------------------------------------------
def normalize(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def strip_markers(text: str) -> str:
    return " ".join(_MARKERS.sub(" ", text).split())


def contains_gold(text: str, golds: Iterable[str]) -> bool:
    body = f" {normalize(strip_markers(text))} "
    return any(g and f" {g} " in body for g in (normalize(x) for x in golds))


def first_sentence(text: str) -> str:
    """The answer up to its first citation marker (answers cite after every sentence), or its
    first sentence when nothing is cited."""
    m = _MARKERS.search(text)
    if m:
        head = text[: m.end()]
        # A marker placed before the full stop ("... UTC [1].") keeps the stop with it.
        return head.strip()
    parts = _SENTENCE_END.split(text.strip(), maxsplit=1)
    return parts[0] if parts else ""


def word_count(text: str) -> int:
    return len(_WORD.findall(strip_markers(text)))


def content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOP


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?。！？])\s+|\n+", text) if s.strip()]


def sliding_window_sentence(question: str, paragraph: str) -> str:
    """The reference point: the paragraph's sentence sharing most content words with the question
    (ties: the earlier one), as the sliding-window baselines of reading comprehension do."""
    q = content_words(question)
    best, best_n = "", -1
    for s in split_sentences(paragraph):
        n = len(q & content_words(s))
        if n > best_n:
            best, best_n = s, n
    return best


# --- outcomes and the summary -----------------------------------------------------------------
@dataclass
class Outcome:
    """One question asked: what came back and the material the reference points need."""

    question: Question
    text: str
    abstained: bool
    cited_paragraphs: list[str]  # paragraph ids of the answer's citations, in marker order
    retrieved_texts: list[str]  # the passages the synthesiser was given (or the closest ones)
    top_paragraph_text: str  # lorebot's top cited paragraph, for the sliding-window baseline
    timings_ms: dict[str, float] = field(default_factory=dict)
    confidence: float | None = None  # the answerability score, None when abstained earlier

    @property
    def answerable(self) -> bool:
        return not self.question.is_impossible


def _pct(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if len(values) else None


def _rate(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The measured table. Hit rates count answerable questions the bot answered (an abstention
    is reported as the false-abstain rate instead); ``hit_incl_abstained`` counts abstentions as
    misses."""
    ans = [o for o in outcomes if o.answerable]
    answered = [o for o in ans if not o.abstained]
    imp = [o for o in outcomes if not o.answerable]
    golds = {id(o): o.question.answers for o in ans}
    hit = [contains_gold(o.text, golds[id(o)]) for o in answered]
    first = [contains_gold(first_sentence(o.text), golds[id(o)]) for o in answered]
    words = [word_count(o.text) for o in answered]
    right = [o.question.paragraph_id in o.cited_paragraphs for o in answered]
    ceiling = [any(contains_gold(t, golds[id(o)]) for t in o.retrieved_texts) for o in answered]
    window = [contains_gold(sliding_window_sentence(o.question.question, o.top_paragraph_text),
                            golds[id(o)]) for o in answered]
    window_words = [word_count(sliding_window_sentence(o.question.question, o.top_paragraph_text))
                    for o in answered]
    stages = sorted({k for o in outcomes for k in o.timings_ms})
    latency = {k: {"p50_ms": _pct([o.timings_ms[k] for o in outcomes if k in o.timings_ms], 50),
                   "p95_ms": _pct([o.timings_ms[k] for o in outcomes if k in o.timings_ms], 95)}
               for k in stages}
    return {
        "questions": len(outcomes), "answerable": len(ans), "unanswerable": len(imp),
        "answered_answerable": len(answered),
        "hit": _rate(hit),
        "first_sentence_hit": _rate(first),
        "hit_incl_abstained": round(sum(hit) / len(ans), 4) if ans else None,
        "words_median": _pct(words, 50), "words_p90": _pct(words, 90),
        "cited_right_paragraph": _rate(right),
        "false_abstain_rate": _rate([o.abstained for o in ans]),
        "unanswerable_abstain_rate": _rate([o.abstained for o in imp]),
        "reference": {
            "retrieval_ceiling": _rate(ceiling),
            "sliding_window_hit": _rate(window),
            "sliding_window_words_median": _pct(window_words, 50),
        },
        "latency": latency,
    }


def length_buckets(outcomes: Sequence[Outcome], edges: Sequence[int] = (20, 30, 40, 60, 90)
                   ) -> list[dict[str, Any]]:
    """Hit rate of the answered answerable questions, by answer length."""
    rows = []
    lo = 0
    for hi in [*edges, 10**9]:
        group = [o for o in outcomes if o.answerable and not o.abstained
                 and lo < word_count(o.text) <= hi]
        rows.append({"words_from": lo + 1, "words_to": hi if hi < 10**9 else None,
                     "answers": len(group),
                     "hit": _rate([contains_gold(o.text, o.question.answers) for o in group])})
        lo = hi
    return rows


def tradeoff_curve(outcomes: Sequence[Outcome], thresholds: Sequence[float] | None = None
                   ) -> list[dict[str, float]]:
    """Abstained-unanswerable against abstained-answerable as the answerability threshold moves.

    A question already abstained on (no confidence: the retrieval evidence was too weak) stays
    abstained at every threshold; the others abstain when their confidence is below it."""
    scores = [o.confidence for o in outcomes if o.confidence is not None]
    if thresholds is None:
        thresholds = sorted(set(np.quantile(scores, np.linspace(0, 1, 41)).round(4))) if scores \
            else [0.0]
    ans = [o for o in outcomes if o.answerable]
    imp = [o for o in outcomes if not o.answerable]

    def abstains(o: Outcome, t: float) -> bool:
        return o.confidence is None or o.confidence < t

    return [{"threshold": float(t),
             "abstained_answerable": round(sum(abstains(o, t) for o in ans) / max(1, len(ans)), 4),
             "abstained_unanswerable": round(sum(abstains(o, t) for o in imp) / max(1, len(imp)),
                                             4)}
            for t in thresholds]
