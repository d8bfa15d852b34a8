"""Unanswerable questions made from answerable ones, to teach the reader to doubt.

SQuAD 2.0's unanswerable questions are mostly small edits of an answerable one (Rajpurkar et al.
2018 count entity swaps, negations, antonyms and mutually exclusive terms among the commonest):
"When did the Normans conquer England?" becomes "When did the Vikings conquer England?", and the
sentence that answered the first is the most plausible wrong answer to the second. The reader
trained on written questions alone could not tell the two apart on held-out articles (its score
separated answerable from unanswerable questions at AUC 0.48). Each edit here keeps the question
and its old answering sentence together and flips the label, which is the contrast to learn.

The edits are deliberately conservative (a swapped name must not occur in the old answering
sentence; an antonym must not already be in it), because a perturbed question that the paragraph
still answers teaches the opposite lesson. Some noise remains; it is the price of scale.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import replace

from knowledge.answer_eval import contains_gold
from knowledge.synthesis.reader_training import QAItem, QARecord
from knowledge.synthesis.segments import sentences

# Capitalised runs ("Duchy of Kessenbrück", "Matthias Oberlin"); numbers and years.
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:of|the|de|von|van|du|la|and)?\s*[A-Z][\w'’-]*)*")
_NUMBER = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")
_YEAR = re.compile(r"^(1[0-9]{3}|20[0-9]{2})$")
# A capitalised first word of a sentence or question is not a name.
_NOT_NAMES = frozenset(re.findall(r"\w+", """what who whom whose which when where why how in on
at during after before since the a an is was are were did does do can could has had have will
would should for from by to of with and but or if as it its this that these those there he she
they his her their many much"""))
_AUX = re.compile(r"^((?:how\s+\w+|what|who|which|when|where|why)(?:\s+\w+)??)\s+"
                  r"(is|was|are|were|did|does|do|can|could|has|had|have|would)\s+(?!not\b)",
                  re.I)
_NEGATED = {"can": "can't"}
_ANTONYMS = dict(re.findall(r"(\w+):(\w+)", """first:last earliest:latest largest:smallest
highest:lowest most:least before:after increase:decrease increased:decreased north:south
east:west oldest:youngest longest:shortest maximum:minimum won:lost start:end began:ended
larger:smaller higher:lower more:fewer older:newer open:shut opened:closed allowed:forbidden
accepted:rejected upper:lower inside:outside fastest:slowest cheapest:dearest
enable:disable enabled:disabled add:remove added:removed"""))
_ANTONYMS |= {v: k for k, v in _ANTONYMS.items()}


def _names(text: str) -> list[str]:
    out = []
    for m in _NAME.finditer(text):
        words = m.group(0).split()
        while words and words[0].lower() in _NOT_NAMES:
            words = words[1:]
        if words and len(" ".join(words)) > 2:
            out.append(" ".join(words))
    return out


def _answer_sentence(paragraph: str, answers: Sequence[str]) -> str:
    return next((s for s in sentences(paragraph) if contains_gold(s, answers)), "")


def _swap_name(question: str, paragraph: str, gold: str, rng: random.Random) -> str | None:
    """A name the question shares with the paragraph, swapped for another of its names that
    the answering sentence does not mention."""
    asked = [n for n in _names(question) if n in paragraph]
    pool = [n for n in dict.fromkeys(_names(paragraph))
            if n not in gold and n not in question and not any(n in a or a in n for a in asked)]
    if not asked or not pool:
        return None
    old = rng.choice(asked)
    return question.replace(old, rng.choice(pool), 1)


def _swap_number(question: str, paragraph: str, gold: str, rng: random.Random) -> str | None:
    """A number or year of the question changed to another of the paragraph's (or a year
    moved by a few years): the event asked about did not happen then."""
    asked = _NUMBER.findall(question)
    if not asked:
        return None
    old = rng.choice(asked)
    pool = [n for n in dict.fromkeys(_NUMBER.findall(paragraph)) if n != old and n not in gold
            and bool(_YEAR.match(n)) == bool(_YEAR.match(old))]
    if not pool and _YEAR.match(old):
        pool = [str(int(old) + d) for d in (-7, -3, 2, 5, 11) if str(int(old) + d) not in paragraph]
    if not pool:
        return None
    return re.sub(rf"\b{re.escape(old)}\b", rng.choice(pool), question, count=1)


def _antonym(question: str, gold: str, rng: random.Random) -> str | None:
    # "How long did the siege last?": "last" is a verb there.
    verb = re.compile(r"\b(did|does|do|to|will|would|can|could|it|they)\s+(\w+\s+){0,3}last\b", re.I)
    words = [w for w in re.findall(r"[A-Za-z]+", question) if w.lower() in _ANTONYMS
             and _ANTONYMS[w.lower()] not in gold.lower()
             and not (w.lower() == "last" and verb.search(question))]
    if not words:
        return None
    old = rng.choice(words)
    new = _ANTONYMS[old.lower()]
    new = new.capitalize() if old[0].isupper() else new
    return re.sub(rf"\b{re.escape(old)}\b", new, question, count=1)


def _negate(question: str, gold: str) -> str | None:
    """'What did X build?' -> 'What didn't X build?' (the contraction keeps it grammatical
    without finding the verb) when the answering sentence has no negation of its own (then
    the negated question might be the one it answers)."""
    if re.search(r"\b(not|never|no)\b|n't", gold, re.I) or not _AUX.match(question):
        return None
    def contract(m: re.Match[str]) -> str:
        aux = m.group(2)
        return f"{m.group(1)} {_NEGATED.get(aux.lower(), aux + 'n' + chr(39) + 't')} "

    return _AUX.sub(contract, question, count=1)


def _edit(kind: str, question: str, paragraph: str, gold: str,
          rng: random.Random) -> str | None:
    if kind == "name":
        return _swap_name(question, paragraph, gold, rng)
    if kind == "number":
        return _swap_number(question, paragraph, gold, rng)
    if kind == "antonym":
        return _antonym(question, gold, rng)
    return _negate(question, gold)


def perturbed(record: QARecord, *, rng: random.Random, rate: float = 1.0) -> QARecord:
    """``record`` with, for about ``rate`` of its answerable questions, one edited copy that
    the paragraph no longer answers (labelled unanswerable). Edits are tried in random order:
    name swap, number swap and antonym, then (for half the questions) negation, the rarest in
    SQuAD 2.0; a question none applies to is left alone."""
    added: list[QAItem] = []
    seen = {q.question for q in record.questions}
    for item in record.questions:
        if not item.answers or rng.random() >= rate:
            continue
        gold = _answer_sentence(record.paragraph, item.answers)
        if not gold:
            continue
        kinds = ["name", "number", "antonym"]
        rng.shuffle(kinds)
        if rng.random() < 0.5:
            kinds.append("negation")
        for kind in kinds:
            new = _edit(kind, item.question, record.paragraph, gold, rng)
            if new and new != item.question and new not in seen:
                added.append(QAItem(new, ()))
                seen.add(new)
                break
    return replace(record, questions=record.questions + tuple(added))


def with_perturbations(records: Sequence[QARecord], *, rate: float = 1.0,
                       seed: int = 0) -> list[QARecord]:
    rng = random.Random(seed)
    return [perturbed(r, rng=rng, rate=rate) for r in records]
