"""The answer reader's part of the extractive answer, on a stand-in reader function (the real
cross-encoder is exercised in test_answer_reader_model.py): what it is shown, how its logits
order and gate the answer, and the training data it is built from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge.errors import ConfigError
from knowledge.passages import build_passages
from knowledge.synthesis.extractive import ExtractiveSynthesizer
from knowledge.synthesis.reader import (
    BUILTIN,
    ReaderMeta,
    ReaderPolicy,
    pair_text,
    resolve_reader,
)
from knowledge.synthesis.reader_training import (
    QAItem,
    QARecord,
    ReaderDataError,
    load_records,
    pairs_for,
)
from tests.unit.test_extractive_answers import assert_grounded, hit


class KeywordReader:
    """Logit 5 for an input whose *unit* (before the context separator) holds ``word``, -5
    otherwise; records what it was asked to read."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.seen: list[list[str]] = []

    def __call__(self, question: str, texts):
        self.seen.append(list(texts))
        return np.array([5.0 if self.word in t.split(" [SEP] ")[0] else -5.0 for t in texts])


STORM = ("Richard left for Acre on 5 June, with his allies. But a storm dispersed the fleet. "
         "Some ships reached Cyprus weeks later.")


def test_the_reader_picks_the_answer_the_terms_miss():
    ps = build_passages([hit(1, STORM)])
    reader = KeywordReader("storm")
    res = ExtractiveSynthesizer(reader=reader, max_sentences=1,
                                reader_policy=ReaderPolicy(candidates=3, lexical_weight=0.0)
                                ).synthesize("What ruined Richard's plans to reach Acre?", ps)
    assert res.text.startswith("But a storm dispersed the fleet.")
    assert_grounded(res.text, ps)
    assert res.confidence == pytest.approx(5.0)


def test_the_reader_sees_each_unit_with_the_sentence_before_it():
    ps = build_passages([hit(1, STORM)])
    reader = KeywordReader("storm")
    ExtractiveSynthesizer(reader=reader, reader_policy=ReaderPolicy(candidates=3)
                          ).synthesize("What ruined Richard's plans?", ps)
    read = reader.seen[0]
    assert pair_text("But a storm dispersed the fleet.",
                     "Richard left for Acre on 5 June, with his allies.") in read
    assert "Richard left for Acre on 5 June, with his allies." in read  # first: no context


def test_the_reader_reads_only_the_policys_candidates():
    text = " ".join(f"Fact number {i} is about deploys." for i in range(12))
    reader = KeywordReader("zzz")
    ExtractiveSynthesizer(reader=reader, reader_policy=ReaderPolicy(candidates=4)
                          ).synthesize("What is fact 3 about?", build_passages([hit(1, text)]))
    assert len(reader.seen) == 1 and len(reader.seen[0]) == 4


def test_no_unit_the_reader_believes_means_an_abstention():
    ps = build_passages([hit(1, STORM)])
    res = ExtractiveSynthesizer(reader=KeywordReader("volcano"),
                                reader_policy=ReaderPolicy(min_score=0.0)
                                ).synthesize("What ruined Richard's plans?", ps)
    assert res.text == "" and res.abstain_reason
    assert res.confidence is not None and res.confidence < 0


def test_summed_pooling_counts_every_plausible_unit_toward_answering():
    """Two half-plausible units are more evidence than one: with ``pool="sum"`` the
    answerability score is log(sum(exp(scores))), with ``max`` only the best unit's."""
    text = "The storm came in June. A storm sank the fleet. Ships reached Cyprus."
    ps = build_passages([hit(1, text)])
    policy = dict(candidates=3, lexical_weight=0.0, min_score=-1e9)
    best = ExtractiveSynthesizer(reader=KeywordReader("storm"),
                                 reader_policy=ReaderPolicy(**policy, pool="max"))
    summed = ExtractiveSynthesizer(reader=KeywordReader("storm"),
                                   reader_policy=ReaderPolicy(**policy, pool="sum"))
    q = "What happened to the fleet?"
    c_max, c_sum = best.synthesize(q, ps).confidence, summed.synthesize(q, ps).confidence
    assert c_max == pytest.approx(5.0)
    assert c_sum == pytest.approx(np.log(2 * np.exp(5.0) + np.exp(-5.0)), abs=1e-3)
    assert best.synthesize(q, ps).text == summed.synthesize(q, ps).text  # same answer


def test_unread_units_rank_below_every_read_one():
    text = " ".join(f"Fact number {i} is about deploys." for i in range(12))
    synth = ExtractiveSynthesizer(reader=KeywordReader("zzz"),
                                  reader_policy=ReaderPolicy(candidates=3))
    scored = synth.score("What is fact 3 about?", build_passages([hit(1, text)]))
    assert len(scored) == 12
    read = scored[:3]
    assert all(s.score > r.score for s in read for r in scored[3:])


def test_a_second_unit_follows_only_within_the_margin():
    ps = build_passages([hit(1, "Deploys run at 14:00 UTC. Rollbacks use the deploy tool. "
                                "Deploys are frozen on Fridays.")])

    class Graded:
        def __call__(self, q, texts):
            return np.array([4.0 if "14:00" in t.split(" [SEP] ")[0] else
                             3.5 if "frozen" in t.split(" [SEP] ")[0] else -6.0 for t in texts])

    near = ExtractiveSynthesizer(reader=Graded(), max_sentences=2,
                                 reader_policy=ReaderPolicy(candidates=3, lexical_weight=0.0,
                                                            extra_margin=1.0))
    far = ExtractiveSynthesizer(reader=Graded(), max_sentences=2,
                                reader_policy=ReaderPolicy(candidates=3, lexical_weight=0.0,
                                                           extra_margin=0.1))
    q = "When do deploys run and when are they frozen?"
    assert near.synthesize(q, ps).text.count("[1]") == 2
    assert far.synthesize(q, ps).text == "Deploys run at 14:00 UTC. [1]"


MOONS = "Titan is the largest moon of Saturn. Saturn has 146 known moons."


def test_a_unit_that_says_the_questions_opposite_neither_leads_nor_answers():
    """The reader believes the Titan sentence (a near copy of the question); it says the
    opposite of what is asked, so the answer abstains, unless the policy switches the check off."""
    ps = build_passages([hit(1, MOONS)])
    policy = dict(candidates=3, lexical_weight=0.0, min_score=0.0)
    q = "Which moon of Saturn is the smallest?"
    checked = ExtractiveSynthesizer(reader=KeywordReader("Titan"),
                                    reader_policy=ReaderPolicy(**policy)).synthesize(q, ps)
    unchecked = ExtractiveSynthesizer(
        reader=KeywordReader("Titan"),
        reader_policy=ReaderPolicy(**policy, contradictions=False)).synthesize(q, ps)
    assert checked.text == "" and checked.abstain_reason
    assert unchecked.text.startswith("Titan is the largest moon of Saturn.")


def test_without_a_reader_the_term_scored_answer_applies_the_same_check():
    """ANSWER_READER=off (the advice for slow CPUs) ranks by terms: the Titan sentence shares
    the most with the question and would lead, though it says the opposite."""
    ps = build_passages([hit(1, "Titan is the largest moon of Saturn. Mimas is a small moon "
                                "of Saturn, 396 km across.")])
    q = "Which moon of Saturn is the smallest?"
    unchecked = ExtractiveSynthesizer(max_sentences=1,
                                      reader_policy=ReaderPolicy(contradictions=False))
    assert unchecked.synthesize(q, ps).text.startswith("Titan is the largest moon")
    res = ExtractiveSynthesizer(max_sentences=1).synthesize(q, ps)
    assert res.text.startswith("Mimas is a small moon")
    assert_grounded(res.text, ps)
    # the reverse question is answered by the Titan sentence, as before
    assert ExtractiveSynthesizer(max_sentences=1).synthesize(
        "Which moon of Saturn is the largest?", ps).text.startswith("Titan is the largest")


def test_without_a_reader_a_contradiction_does_not_widen_the_score_gap():
    """The answerability row reads the gap between the two best scores: a demoted unit sits just
    below the others, so the gap it leaves is an ordinary one, not the reader's penalty of 100."""
    from knowledge.synthesis.extractive import _demote_contradictions
    from knowledge.synthesis.segments import units

    cands = units("Titan is the largest moon of Saturn. Mimas is a small moon of Saturn. "
                  "Saturn has rings.", 0)
    scores = np.array([3.0, 1.0, 0.5])
    out = _demote_contradictions("Which moon of Saturn is the smallest?", cands, scores)
    assert out[1] == 1.0 and out[2] == 0.5 and 0.5 - 1.0 - 1e-6 < out[0] < 0.5
    # every unit contradicting: nothing to prefer, the scores stay
    only = units("Titan is the largest moon of Saturn.", 0)
    assert _demote_contradictions("Which moon is the smallest?", only,
                                  np.array([2.0])).tolist() == [2.0]


def test_a_contradicted_unit_yields_the_lead_to_one_that_is_not():
    ps = build_passages([hit(1, "Titan is the largest moon of Saturn. Mimas is a small moon "
                                "of Saturn, 396 km across.")])

    class Both:
        def __call__(self, q, texts):
            return np.array([6.0 if "Titan" in t.split(" [SEP] ")[0] else 2.0 for t in texts])

    res = ExtractiveSynthesizer(reader=Both(), max_sentences=1, reader_policy=ReaderPolicy(
        candidates=3, lexical_weight=0.0, min_score=0.0)
    ).synthesize("Which moon of Saturn is the smallest?", ps)
    assert res.text.startswith("Mimas is a small moon") and res.confidence == pytest.approx(2.0)
    same = ExtractiveSynthesizer(reader=Both(), max_sentences=1, reader_policy=ReaderPolicy(
        candidates=3, lexical_weight=0.0, min_score=0.0)
    ).synthesize("Which moon of Saturn is the largest?", ps)
    assert same.text.startswith("Titan is the largest moon")


def test_reader_json_can_switch_the_contradiction_check_off(tmp_path):
    (tmp_path / "reader.json").write_text(json.dumps({
        "base_model": "all-MiniLM-L6-v2", "layers": 3,
        "policy": {"candidates": 4, "contradictions": False}}))
    meta = ReaderMeta.read(tmp_path)
    assert meta.policy.candidates == 4 and meta.policy.contradictions is False
    (tmp_path / "reader.json").write_text(json.dumps({"base_model": "all-MiniLM-L6-v2",
                                                      "layers": 3, "policy": {}}))
    assert ReaderMeta.read(tmp_path).policy.contradictions is True  # on unless switched off


def test_resolve_reader_names_what_to_do(tmp_path):
    assert resolve_reader("off") is None
    assert resolve_reader("builtin") == BUILTIN
    with pytest.raises(ConfigError, match="ANSWER_READER"):
        resolve_reader(str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="reader.json"):
        ReaderMeta.read(tmp_path)


def test_the_builtin_reader_ships_its_weights_and_policy():
    meta = json.loads((BUILTIN / "reader.json").read_text())
    assert (BUILTIN / "body.safetensors").stat().st_size > 1_000_000  # the tuned layers
    assert (BUILTIN / "head.safetensors").exists()
    assert meta["base_model"] == "all-MiniLM-L6-v2" and meta["layers"] >= 1
    assert set(meta["policy"]) >= {"candidates", "lexical_weight", "min_score", "extra_margin"}


# --- training data ---
def _write(path: Path, rows) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_load_records_reads_the_layout_and_rejects_a_span_not_in_the_paragraph(tmp_path):
    good = {"title": "T", "paragraph": "The abbey burned in 1204. It was rebuilt.",
            "questions": [{"q": "When did it burn?", "answer": "1204"},
                          {"q": "Who rebuilt it?", "answer": None}]}
    recs = load_records([_write(tmp_path / "a.jsonl", [good])])
    assert recs[0].questions == (QAItem("When did it burn?", ("1204",)),
                                 QAItem("Who rebuilt it?", ()))
    bad = dict(good, questions=[{"q": "When?", "answer": "1205"}])
    with pytest.raises(ReaderDataError, match=r"b\.jsonl:2: answer '1205'"):
        load_records([_write(tmp_path / "b.jsonl", [good, bad])])
    with pytest.raises(ReaderDataError, match="c.jsonl:1"):
        load_records([_write(tmp_path / "c.jsonl", [{"title": "no paragraph"}])])


def test_pairs_label_the_answering_unit_and_add_distractors():
    a = QARecord("A", "The abbey burned in 1204. It was rebuilt by monks in 1230.",
                 (QAItem("Who rebuilt the abbey?", ("monks",)),
                  QAItem("Who burned the abbey?", ())))
    b = QARecord("B", "A bridge was rebuilt in 1990. The abbey of Varn is older.",
                 (QAItem("When was the bridge rebuilt?", ("1990",)),))
    pairs = pairs_for([a, b], distractors=1)
    rebuilt = [p for p in pairs if p.question == "Who rebuilt the abbey?"]
    assert [p.label for p in rebuilt] == [0, 1, 0]  # own two units, then one distractor
    assert rebuilt[1].text == pair_text("It was rebuilt by monks in 1230.",
                                        "The abbey burned in 1204.")
    assert rebuilt[2].text.split(" [SEP] ")[0] in b.paragraph
    assert all(p.label == 0 for p in pairs if p.question == "Who burned the abbey?")


def test_max_negatives_keeps_the_answer_and_the_hardest_others():
    rec = QARecord("A", "The abbey burned in 1204. Monks rebuilt the abbey in 1230. Sheep graze "
                        "nearby. The abbey bell is bronze.",
                   (QAItem("When did monks rebuild the abbey?", ("1230",)),))
    pairs = pairs_for([rec], distractors=0, max_negatives=1)
    assert [(p.label, p.text.split(" [SEP] ")[0]) for p in pairs] == [
        (0, "The abbey burned in 1204."), (1, "Monks rebuilt the abbey in 1230.")]


def test_a_block_is_read_with_its_own_sections_heading():
    from knowledge.passages import build_passages as bp
    from knowledge.store.search import SearchHit

    def h(cid, ordinal, text, heading):
        return SearchHit(chunk_id=cid, document_id=1, ordinal=ordinal, text=text,
                         heading_path=heading, title="Slack", uri="slack.md", collection="c",
                         source="s", similarity=0.6, keyword_rank=None, vector_position=None,
                         keyword_position=None, score=1.0, last_success_at=None)

    steps = "1. Create the app\n2. Copy the token"
    ps = bp([h(1, 0, "Slack is a chat tool.", "Slack > Intro"),
             h(2, 1, steps, "Slack > Create the Slack app")])
    reader = KeywordReader("token")
    ExtractiveSynthesizer(reader=reader, reader_policy=ReaderPolicy(candidates=4)
                          ).synthesize("How do I set up the app?", ps)
    assert pair_text(steps, "Slack > Create the Slack app") in reader.seen[0]
    assert "Slack is a chat tool." in reader.seen[0]

    # A hard-wrapped list item is unwrapped in the unit, so its text is not verbatim in the
    # passage past the wrap: its heading is still found (the demo's "Socket Mode" list was not).
    wrapped = "- **Socket Mode** needs no public URL: create an app-level token\n  with a scope.\n" \
              "- **HTTP mode**: leave the token unset."
    ps = bp([h(1, 0, "Slack is a chat tool.", "Slack > Intro"),
             h(2, 1, wrapped, "Slack > Socket Mode or HTTP")])
    reader = KeywordReader("token")
    ExtractiveSynthesizer(reader=reader, reader_policy=ReaderPolicy(candidates=4)
                          ).synthesize("Which mode needs no public URL?", ps)
    block = next(t for t in reader.seen[0] if t.startswith("- **Socket Mode**"))
    assert block.endswith(" [SEP] Slack > Socket Mode or HTTP")


def test_the_shipped_training_data_is_valid():
    """datasets/answer-reader is what the builtin reader was trained on: every line loads, and
    every answer is a span of its paragraph (load_records checks that)."""
    folder = Path(__file__).resolve().parents[2] / "datasets" / "answer-reader"
    records = load_records(sorted(folder.glob("*.jsonl")))
    assert len(records) >= 500
    assert all(len(r.questions) == 8 for r in records)
    assert sum(not q.answers for r in records for q in r.questions) == 3 * len(records)
