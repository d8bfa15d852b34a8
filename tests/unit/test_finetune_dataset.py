"""Building style examples: labels by majority, corrections first, cleaning, stable splits."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from finetune.dataset import (
    WEIGHT_CORRECTION,
    LabelledInteraction,
    Vote,
    build_examples,
    default_redactor,
    split_for,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _item(n: int, votes: list[int], *, draft: str | None = None, corrections: list[str] = (),
          abstained: bool = False, question: str | None = None) -> LabelledInteraction:
    vs = [Vote(value=v, signal="reaction", correction=None, at=T0 + timedelta(minutes=i))
          for i, v in enumerate(votes)]
    vs += [Vote(value=1, signal="correction", correction=c, at=T0 + timedelta(hours=i + 1))
           for i, c in enumerate(corrections)]
    return LabelledInteraction(
        id=uuid.UUID(int=n), question=question or f"How do I do task number {n} here?",
        draft=draft or f"For task {n}, open tool {n} and follow the steps listed there [1].",
        answer=draft or f"For task {n}, open tool {n} and follow the steps listed there [1].",
        sources=[], abstained=abstained, votes=vs)


def test_majority_ties_corrections_and_abstentions() -> None:
    report = build_examples([
        _item(1, [1, 1, -1]), _item(2, [-1, -1, 1]), _item(3, [1, -1]),
        _item(4, [-1], corrections=["First try [1].", "Open the tool and follow its steps [1]."]),
        _item(5, [1], abstained=True),
    ])
    by = {e.id: e for e in report.examples}
    assert by[str(uuid.UUID(int=1))].label == "good"
    assert by[str(uuid.UUID(int=2))].label == "bad"
    assert str(uuid.UUID(int=3)) not in by  # a tie teaches nothing
    fixed = by[str(uuid.UUID(int=4))]
    assert (fixed.label, fixed.weight) == ("good", WEIGHT_CORRECTION)
    assert fixed.target == "Open the tool and follow its steps [1]."  # the newest correction
    assert report.dropped == {"tied votes": 1, "abstained": 1}


def test_duplicates_near_duplicates_and_lengths_are_dropped() -> None:
    long_draft = "word " * 500 + "[1]"
    report = build_examples([
        _item(1, [1]),
        _item(2, [1], draft="For task 1, open tool 1 and follow the steps listed there [1].",
              question="How do I do task number 1 here?"),
        _item(3, [1], draft="For task 1, open tool 1 and follow the steps listed there! [1]",
              question="How do I do task number 1 here, please?"),
        _item(4, [1], draft="Yes [1]."),
        _item(5, [1], draft=long_draft),
    ])
    assert [e.id for e in report.examples] == [str(uuid.UUID(int=1))]
    assert report.dropped == {"duplicate": 1, "near duplicate": 1, "too short": 1,
                              "too long": 1}


def test_secrets_and_personal_data_are_redacted() -> None:
    draft = ("Mail bob.smith@corp.example or use token ghp_abcdefghijklmnopqrstuvwxyz0123456789 "
             "to call the API [1].")
    report = build_examples([_item(1, [1], draft=draft)], redactor=default_redactor())
    text = report.examples[0].draft + report.examples[0].target
    assert "bob.smith@corp.example" not in text
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in text
    assert "[REDACTED" in text


def test_splits_depend_only_on_the_id_and_are_roughly_80_10_10() -> None:
    ids = [str(uuid.UUID(int=n)) for n in range(3000)]
    counts = Counter(split_for(i) for i in ids)
    assert 0.76 < counts["train"] / 3000 < 0.84
    assert 0.07 < counts["validation"] / 3000 < 0.13 and 0.07 < counts["test"] / 3000 < 0.13
    small = build_examples([_item(n, [1]) for n in range(1, 30)])
    big = build_examples([_item(n, [1]) for n in range(1, 300)])
    where = {e.id: e.split for e in big.examples}
    assert all(where[e.id] == e.split for e in small.examples)
    summary = big.summary()
    assert sum(s["good"] for s in summary["splits"].values()) == len(big.examples)
