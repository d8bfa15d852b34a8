"""How often the contradiction check (knowledge/synthesis/contradiction.py) fires, and on what.

A check that keeps a sentence from answering must almost never fire on the sentence that does
answer. Measured per question on two sets, with no model and no database:

- the reading-comprehension data written for lorebot (``datasets/answer-reader/``: 14 domains,
  prose and Markdown runbooks; the checks were not written from it), and
- each article of ``../shared/eval/squad2-dev`` (Computational complexity theory is the
  answer reader's held-out article; the rules were written after reading its unanswerable
  questions, so its figures are not a clean held-out measure of them).

For an answerable question the check is run against the sentence holding the gold answer (a
fire there is a false alarm); for an unanswerable one against the paragraph's sentence sharing
most terms with the question (the sentence an answer would most likely quote). The baseline in
the same run is a naive polarity check without the paraphrase guards: a negated question
against a sentence with no "not"/"no"/"never", or a question word whose antonym (the training
edits' lexicon, ``reader_perturb``) the sentence has instead.

    PYTHONPATH=$PWD python benchmarks/bench_contradiction.py --out benchmarks/contradiction.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.answer_eval import contains_gold, load_qa  # noqa: E402
from knowledge.synthesis.contradiction import contradiction, wh_question  # noqa: E402
from knowledge.synthesis.reader_perturb import _ANTONYMS  # noqa: E402
from knowledge.synthesis.reader_training import load_records  # noqa: E402
from knowledge.synthesis.segments import terms, units  # noqa: E402

_NEGATIONS = {"not", "no", "never"}


def naive(question: str, text: str) -> str | None:
    """The baseline: polarity words compared without any guard."""
    q = question.lower().replace("n't", " not").split()
    t = set(text.lower().replace("n't", " not").split())
    if _NEGATIONS.intersection(q) and not _NEGATIONS & t:
        return "negation"
    return next((f"antonym: {w}" for w in q if w not in t and _ANTONYMS.get(w) in t), None)


def measure(items: list[tuple[str, str, tuple[str, ...]]], check: Any = contradiction
            ) -> dict[str, Any]:
    """``items``: (question, paragraph, gold answers; empty = unanswerable)."""
    count: Counter[str] = Counter(dict.fromkeys(
        ("wh_questions", "answerable", "false_alarms", "unanswerable", "caught"), 0))
    kinds: Counter[str] = Counter()
    false_alarms: list[dict[str, str]] = []
    t0 = time.perf_counter()
    for question, paragraph, answers in items:
        sentences = [u.text for u in units(paragraph, 0)]
        if not sentences:
            continue
        count["wh_questions"] += wh_question(question)
        if answers:
            gold = next((s for s in sentences if contains_gold(s, answers)), None)
            if gold is None:
                continue
            count["answerable"] += 1
            why = check(question, gold)
            if why:
                count["false_alarms"] += 1
                kinds[why.split(":")[0]] += 1
                false_alarms.append({"question": question, "sentence": gold[:160], "why": why})
        else:
            asked = set(terms(question))
            closest = max(sentences, key=lambda s: len(asked & set(terms(s))))
            count["unanswerable"] += 1
            why = check(question, closest)
            if why:
                count["caught"] += 1
    seconds = time.perf_counter() - t0
    return {
        "questions": len(items), **count,
        "false_alarm_rate": round(count["false_alarms"] / max(1, count["answerable"]), 4),
        "unanswerable_caught_rate": round(count["caught"] / max(1, count["unanswerable"]), 4),
        "false_alarm_kinds": dict(kinds),
        "false_alarm_examples": false_alarms[:10],
        # segmenting the paragraph included: the check alone is a fraction of it
        "us_per_question": round(seconds / max(1, len(items)) * 1e6, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=ROOT / "datasets" / "answer-reader")
    p.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "eval" / "squad2-dev")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    written = [(q.question, r.paragraph, tuple(q.answers))
               for r in load_records(sorted(args.data.glob("part_*.jsonl")))
               for q in r.questions]
    sets = {"written": written}
    if args.squad.exists():
        data = load_qa(args.squad)
        for article in data.articles():
            sets[f"squad2-dev:{article}"] = [
                (q.question, data.paragraphs[q.paragraph_id].text,
                 () if q.is_impossible else tuple(q.answers))
                for q in data.select(article)]
    result: dict[str, Any] = {name: {"check": measure(items), "baseline_naive": measure(items, naive)}
                              for name, items in sets.items()}
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
