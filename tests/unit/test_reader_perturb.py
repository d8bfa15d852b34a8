"""The edited unanswerable questions that teach the answer reader to doubt
(knowledge/synthesis/reader_perturb.py), and the block context its training pairs use."""

from __future__ import annotations

import random

from knowledge.chunking import HEADING_SEPARATOR
from knowledge.synthesis.reader import pair_text
from knowledge.synthesis.reader_perturb import (
    _antonym,
    _negate,
    _swap_name,
    _swap_number,
    with_perturbations,
)
from knowledge.synthesis.reader_training import QAItem, QARecord, pairs_for
from knowledge.synthesis.segments import heading_paths

PARAGRAPH = ("The Treaty of Osterwald was signed in 1619 by Matthias Oberlin. "
             "Umlach kept the right to buy 4,000 barrels of salt a year. "
             "The bishopric of Umlach demolished the fortress of Greifeneck in 1621.")
GOLD = "The Treaty of Osterwald was signed in 1619 by Matthias Oberlin."


def test_a_swapped_name_comes_from_the_paragraph_but_not_from_the_answering_sentence():
    for seed in range(10):
        new = _swap_name("Who signed the Treaty of Osterwald?", PARAGRAPH, GOLD,
                         random.Random(seed))
        assert new is not None and new != "Who signed the Treaty of Osterwald?"
        swapped = new.removeprefix("Who signed the ").removesuffix("?")
        assert swapped in PARAGRAPH and swapped not in GOLD


def test_a_year_moves_to_another_year_never_to_a_count():
    new = _swap_number("What was signed in 1619?", PARAGRAPH, GOLD, random.Random(0))
    assert new == "What was signed in 1621?"
    # No other year in the paragraph: the year moves by a few years it does not mention.
    moved = _swap_number("What happened in 1066?", "In 1066 a duke came.", "In 1066 a duke came.",
                         random.Random(0))
    assert moved is not None and moved != "What happened in 1066?"
    assert "1066" not in moved


def test_antonyms_and_negations_keep_the_question_grammatical_and_skip_what_they_would_break():
    assert _antonym("Who was the first duke?", GOLD, random.Random(0)) == "Who was the last duke?"
    # "last" is a verb here; swapping it would make nonsense, not an unanswerable question.
    assert _antonym("How long did the siege last?", GOLD, random.Random(0)) is None
    # The answering sentence already says "last": the flipped question might be answered.
    assert _antonym("Who was the first duke?", "He was the last duke.", random.Random(0)) is None
    assert _negate("What did the bishopric demolish?", GOLD) == \
        "What didn't the bishopric demolish?"
    assert _negate("What did the bishopric demolish?", "It did not demolish the fort.") is None


def test_perturbation_adds_unanswerable_copies_and_keeps_the_originals():
    rec = QARecord("Osterwald", PARAGRAPH, (
        QAItem("Who signed the Treaty of Osterwald?", ("Matthias Oberlin",)),
        QAItem("How many barrels of salt could Umlach buy a year?", ("4,000",)),
        QAItem("Who paid the indemnity?", ())))
    out = with_perturbations([rec], rate=1.0, seed=3)[0]
    assert out.questions[:3] == rec.questions
    added = out.questions[3:]
    assert 1 <= len(added) <= 2 and all(q.answers == () for q in added)
    assert not set(q.question for q in added) & set(q.question for q in rec.questions)
    assert with_perturbations([rec], rate=0.0)[0] == rec
    assert with_perturbations([rec], rate=1.0, seed=3) == [out]  # seeded: reproducible


def test_training_reads_a_block_with_its_heading_path_like_the_answer_does():
    text = ("# Deploy tool\n\nThe tool ships builds.\n\n## Roll back\n\n- Run `dtool revert`.\n"
            "- Tell #ops in Slack.")
    block = "- Run `dtool revert`.\n- Tell #ops in Slack."
    assert heading_paths(text, HEADING_SEPARATOR) == {block: "Deploy tool > Roll back"}
    rec = QARecord("Deploy tool", text, (QAItem("how do i undo a deploy", ("dtool revert",)),))
    pairs = pairs_for([rec], distractors=0)
    assert [(p.label, p.text) for p in pairs] == [
        (0, pair_text("The tool ships builds.", None)),
        (1, pair_text(block, "Deploy tool > Roll back"))]
