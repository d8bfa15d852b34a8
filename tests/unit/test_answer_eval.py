"""The answer metrics of `lorebot eval answers`, by hand on small cases (no database, no model)."""

from __future__ import annotations

import json

import pytest

from knowledge.answer_eval import (
    Outcome,
    QADataError,
    Question,
    contains_gold,
    first_sentence,
    load_qa,
    normalize,
    sliding_window_sentence,
    summarise,
    tradeoff_curve,
    word_count,
)


def q(qid: str, answers=("France",), impossible=False, pid="p1", text="Where is Normandy?"):
    return Question(id=qid, question=text, answers=tuple(answers), is_impossible=impossible,
                    paragraph_id=pid)


def test_squad_normalisation_and_word_boundaries():
    assert normalize("The  Normans, (in France)!") == "normans in france"
    assert contains_gold("It lies in northern France. [1]", ["france"])
    assert contains_gold("In the 10th and 11th centuries [2]", ["10th and 11th centuries"])
    assert not contains_gold("Frances Drake sailed. [1]", ["France"])  # not inside a word
    assert not contains_gold("Sentence [1]", ["1"])  # markers are not part of the answer
    assert not contains_gold("anything", [""])


def test_first_sentence_is_up_to_the_first_marker():
    assert first_sentence("Normandy is in France. [1] Rollo led them. [2]") == \
        "Normandy is in France. [1]"
    assert first_sentence("No markers here. Second one.") == "No markers here."
    assert word_count("Normandy is in France. [1] [2]") == 4


def test_sliding_window_picks_the_sentence_sharing_most_question_words():
    para = "The Normans were Norse. Normandy is a region in France. Rollo was their leader."
    assert sliding_window_sentence("In which country is the region of Normandy?", para) == \
        "Normandy is a region in France."


def _o(question, text, abstained=False, cited=("p1",), retrieved=("in France",), conf=0.5):
    return Outcome(question=question, text=text, abstained=abstained, cited_paragraphs=list(cited),
                   retrieved_texts=list(retrieved), top_paragraph_text="Normandy is in France.",
                   timings_ms={"total": 10.0, "synthesize": 1.0}, confidence=conf)


def test_summary_counts_each_rate_over_its_own_questions():
    outs = [
        _o(q("a"), "Rollo came first. [1] Normandy is in France. [2]"),  # hit, not first sentence
        _o(q("b"), "Normandy is in France. [1]"),  # hit in first sentence
        _o(q("c"), "Something else. [1]", cited=("p2",), retrieved=("nothing",)),  # miss
        _o(q("d"), "I could not find this.", abstained=True, conf=None),  # false abstain
        _o(q("e", (), True), "I could not find this.", abstained=True, conf=0.1),
        _o(q("f", (), True), "Some answer. [1]", conf=0.9),
    ]
    s = summarise(outs)
    assert (s["answerable"], s["unanswerable"], s["answered_answerable"]) == (4, 2, 3)
    assert s["hit"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["first_sentence_hit"] == pytest.approx(1 / 3, abs=1e-3)
    assert s["hit_incl_abstained"] == 0.5
    assert s["false_abstain_rate"] == 0.25 and s["unanswerable_abstain_rate"] == 0.5
    assert s["cited_right_paragraph"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["reference"]["retrieval_ceiling"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["reference"]["sliding_window_hit"] == 1.0
    assert s["latency"]["total"]["p50_ms"] == 10.0


def test_tradeoff_curve_moves_both_rates_together():
    outs = [_o(q("a"), "x [1]", conf=0.8), _o(q("b"), "x [1]", conf=0.3),
            _o(q("c", (), True), "x [1]", conf=0.2), _o(q("d", (), True), "n", True, conf=None)]
    curve = tradeoff_curve(outs, thresholds=[0.0, 0.25, 0.5, 1.0])
    assert [(c["abstained_answerable"], c["abstained_unanswerable"]) for c in curve] == [
        (0.0, 0.5), (0.0, 1.0), (0.5, 1.0), (1.0, 1.0)]


def test_loader_checks_the_layout(tmp_path):
    (tmp_path / "corpus.jsonl").write_text(json.dumps(
        {"id": "p1", "title": "Normans (1)", "text": "Normandy is in France.", "url": "u1"}) + "\n")
    (tmp_path / "questions.jsonl").write_text(json.dumps(
        {"id": "q1", "question": "Where?", "answers": ["France"], "is_impossible": False,
         "paragraph_id": "p1"}) + "\n")
    data = load_qa(tmp_path)
    assert data.articles() == ["Normans"] and len(data.select("Normans")) == 1
    assert data.select("not:Normans") == []
    with pytest.raises(QADataError, match="articles: Normans"):
        data.select("Physics")
    (tmp_path / "questions.jsonl").write_text(json.dumps(
        {"id": "q1", "question": "Where?", "paragraph_id": "nope"}) + "\n")
    with pytest.raises(QADataError, match="not in corpus.jsonl"):
        load_qa(tmp_path)
    with pytest.raises(QADataError, match="missing"):
        load_qa(tmp_path / "empty")
