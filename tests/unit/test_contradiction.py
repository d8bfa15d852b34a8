"""The contradiction checks: the opposite of the question fires, paraphrases of the same
polarity and yes/no questions do not."""

from __future__ import annotations

import pytest

from knowledge.synthesis.contradiction import contradiction, wh_question

FIRES = [
    ("Which moon of Saturn is the smallest?", "Titan is the largest moon of Saturn.", "antonym"),
    ("What makes the check dependent on the region?",
     "The cache makes the check independent of the region.", "prefix"),
    ("What is unknown about the outage?", "The cause of the outage is known.", "prefix"),
    ("What connects the three towns?", "A railway connects the two towns.", "number"),
    ("What happened in 1911 at the ford?", "The ford was lost in 1907.", "number"),
    ("Which deploys are not reviewed?", "Every deploy is reviewed by the on-call engineer.",
     "negation"),
    ("Who closed the northern gate?", "The mayor opened the northern gate in 1820.", "antonym"),
]

AGREES = [
    # paraphrases of the same polarity
    ("What is unknown about the outage?", "It is not known what caused the outage."),
    ("Which ports are not open in winter?", "Three ports are closed in winter."),
    ("How many alerts fire within ten minutes?", "Four alerts fire within 10 minutes."),
    ("What is output by the job?", "The job outputs a CSV report."),
    ("What is the most common failure?", "At least three failures were disk faults."),
    # converses: the buyer is named by the sale
    ("Who bought the rights?", "In 1418 Maciot sold the rights to Enrique."),
    # the asked-for quantity is not a claim
    ("How long is the short route?", "The short route is 4 km."),
    ("How long does each brownout last?", "The first brownout takes one hour."),
    # a negated condition, not a negated claim
    ("Where does the agent look if the file is not found?", "It then looks in /etc/agent."),
    ("What ordering is used when no sort is given?", "Results are ordered by relevance."),
    # negation said without a negator
    ("Why are the panels cleaned with no water?", "Waterless robots clean the panels at night."),
    ("What may or may not be cached?", "Responses are cached for an hour."),
    # the same word
    ("Which moon of Saturn is the largest?", "Titan is the largest moon of Saturn."),
]


@pytest.mark.parametrize(("question", "text", "kind"), FIRES)
def test_the_opposite_of_the_question_is_found(question, text, kind):
    why = contradiction(question, text)
    assert why is not None and why.startswith(kind), why


@pytest.mark.parametrize(("question", "text"), AGREES)
def test_a_sentence_of_the_same_polarity_is_not_a_contradiction(question, text):
    assert contradiction(question, text) is None


@pytest.mark.parametrize("question", ["Do deploys start before 14:00?",
                                      "Is the smallest moon Titan?",
                                      "Can deploys run on Fridays?"])
def test_a_yes_no_question_is_answered_by_its_opposite(question):
    assert not wh_question(question)
    assert contradiction(question, "Titan is the largest moon; deploys start after 14:00 and "
                                   "never run on Fridays.") is None


def test_odd_input_is_not_a_contradiction():
    assert contradiction("", "") is None
    assert contradiction("what", "") is None
    assert contradiction("Что такое Титан?", "Титан — крупнейший спутник Сатурна.") is None
    assert contradiction("Which " + "x " * 500 + "is smallest?", "y " * 2000 + "largest") \
        is not None  # long input still works, and quickly
