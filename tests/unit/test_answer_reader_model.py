"""The shipped answer reader itself (real weights, real encoder; loads offline): it prefers the
sentence that answers over ones that only share the question's words, and a tiny reader can be
trained, saved and loaded again. The questions here were written for this test, not trained on."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from knowledge.errors import ConfigError
from knowledge.synthesis.reader import (
    BODY,
    BUILTIN,
    CONTEXT_SEP,
    HEAD,
    AnswerReader,
    encode,
    pair_text,
)
from knowledge.synthesis.reader_training import QAItem, QARecord, pairs_for, train


@pytest.fixture(scope="module")
def reader() -> AnswerReader:
    return AnswerReader.load(BUILTIN)


CASES = [
    # (question, answering sentence, its previous sentence, distractors sharing more words)
    ("What stopped the convoy from reaching the harbour?",
     "A sudden gale scattered the ships.", "The convoy sailed for the harbour on 3 May.",
     ["The convoy sailed for the harbour on 3 May.",
      "The harbour was rebuilt after the convoy era."]),
    ("How long does a production deploy take?",
     "It usually finishes in about twelve minutes.", "Production deploys start at 14:00 UTC.",
     ["Production deploys start at 14:00 UTC.", "A deploy to production needs two approvals."]),
    ("Who designed the bridge?",
     "The engineer Mara Loquist drew the final plans in 1921.",
     "The bridge crosses the Vell at its narrowest point.",
     ["The bridge crosses the Vell at its narrowest point.",
      "The bridge was repainted in 1990."]),
    ("When was the lighthouse automated?",
     "Its keepers left in 1987, when the lamp was automated.",
     "The Harrow Point lighthouse was built in 1852.",
     ["The Harrow Point lighthouse was built in 1852.",
      "The lighthouse is painted white and red."]),
    ("Which team owns the billing service now?",
     "Ownership moved to the Payments Platform team in March.",
     "The billing service was written by the Growth team in 2019.",
     ["The billing service was written by the Growth team in 2019.",
      "The billing service handles invoices and refunds."]),
    ("How many people live in the village?",
     "Its population was 412 at the last census.",
     "Ostervik is a fishing village on the north coast.",
     ["Ostervik is a fishing village on the north coast.",
      "The village has a church and two shops."]),
]


def _firsts(reader: AnswerReader) -> list[bool]:
    out = []
    for question, answer, previous, distractors in CASES:
        texts = [pair_text(answer, previous)] + [pair_text(d, None) for d in distractors]
        scores = reader.score(question, texts)
        assert scores.shape == (len(texts),) and np.isfinite(scores).all()
        out.append(int(np.argmax(scores)) == 0)
    return out


def test_the_answering_sentence_outscores_word_overlap(reader):
    """A learned reader is judged on a set, not one case: the shipped one ranks the answer
    first on all of these but the bridge (it finds "drew the final plans" no answer to "Who
    designed the bridge?" and, all three scores being below its threshold, would abstain)."""
    firsts = _firsts(reader)
    assert sum(firsts) >= len(CASES) - 1, firsts


def _decoded(reader: AnswerReader, question: str, texts: list[str], max_tokens: int) -> list[str]:
    ids = encode(reader.tokenizer, [question] * len(texts), texts, max_tokens)["input_ids"]
    return [reader.tokenizer.decode(row, skip_special_tokens=False) for row in ids]


def test_a_long_block_keeps_its_heading_and_loses_its_tail(reader):
    """The context (a block's heading path, a sentence's previous sentence) comes after the unit;
    the tokenizer's own truncation cut it off any long list, so the reader never saw what the
    list was about."""
    # the sample knowledge's Slack steps: technical text runs to ~2 tokens a word
    steps = ('1. Go to api.slack.com/apps, choose "Create New App" and "From an app manifest".\n'
             "2. Paste `adapters/slack/manifest.yml` from the lorebot repository and create the "
             "app.\n3. Install the app to your workspace.\n"
             "4. Copy the Bot User OAuth Token (it starts with `xoxb-`) into `.env` as "
             "`SLACK_BOT_TOKEN`.\n5. Copy the Signing Secret from \"Basic Information\" into "
             "`.env` as `SLACK_SIGNING_SECRET`.")
    text = pair_text(steps, "Using lorebot in Slack > Create the Slack app")
    question = "How do I connect lorebot to Slack?"
    full = len(reader.tokenizer(question, text)["input_ids"])
    assert full > 128  # the case only means something when it is too long
    decoded = _decoded(reader, question, [text], 128)[0]
    assert decoded.endswith("create the slack app [SEP]"), decoded
    assert "1. go to api. slack. com" in decoded and "signing _ secret" not in decoded
    assert len(encode(reader.tokenizer, [question], [text], 128)["input_ids"][0]) == 128


def test_inputs_that_fit_are_encoded_as_the_tokenizer_would(reader):
    question = "Who designed the bridge?"
    texts = [pair_text(c[1], c[2]) for c in CASES] + [CASES[0][1]]
    got = encode(reader.tokenizer, [question] * len(texts), texts, 128)["input_ids"]
    plain = reader.tokenizer([question] * len(texts), texts, padding=True, truncation=True,
                             max_length=128, return_tensors="pt")["input_ids"]
    assert got.tolist() == plain.tolist()


def test_a_question_too_long_to_leave_room_falls_back_to_plain_truncation(reader):
    question = " ".join(["why"] * 150) + "?"
    text = pair_text("The bridge crosses the Vell at its narrowest point.", "The bridge.")
    assert CONTEXT_SEP in text
    ids = encode(reader.tokenizer, [question], [text], 128)["input_ids"]
    assert ids.shape[1] == 128  # no error, no negative slice: the tokenizer truncated it


def test_scores_do_not_depend_on_the_batch(reader):
    texts = [pair_text(c[1], c[2]) for c in CASES]
    together = reader.score(CASES[0][0], texts)
    alone = np.array([reader.score(CASES[0][0], [t])[0] for t in texts])
    # Padding changes bf16 rounding only; int8 also quantises activations per batch (measured
    # up to ~0.6 on the held-out article's batches).
    assert np.allclose(together, alone, atol=0.75 if reader.int8 else 0.15)


@pytest.mark.slow
def test_a_reader_trains_saves_and_loads(tmp_path):
    rec = QARecord("Abbey", "The abbey burned in 1204. Monks rebuilt it in 1230. Sheep graze "
                            "on the hill. The bell is bronze.",
                   (QAItem("When did the monks rebuild the abbey?", ("1230",)),
                    QAItem("What is the bell made of?", ("bronze",)),
                    QAItem("Who burned the abbey?", ())))
    pairs = pairs_for([rec], distractors=0)
    report = train(pairs, tmp_path / "r", layers=1, epochs=30, batch_size=8, lr=5e-4,
                   trained_on=["test"])
    assert report.steps == 45  # 3 questions, 2 per step (8 pairs of 4 units), 30 epochs
    assert np.mean(report.losses[-5:]) < np.mean(report.losses[:5])
    meta = json.loads((tmp_path / "r" / "reader.json").read_text())
    assert meta["layers"] == 1 and meta["trained_on"] == ["test"] and meta["loss"] == "listwise"
    assert (tmp_path / "r" / HEAD).exists() and (tmp_path / "r" / BODY).exists()
    small = AnswerReader.load(tmp_path / "r", precision="fp32")
    bell = [p for p in pairs if p.question == "What is the bell made of?"]
    scores = small.score("What is the bell made of?", [p.text for p in bell])
    assert bell[int(np.argmax(scores))].label == 1  # "The bell is bronze." learned

    # one layer deeper: the saved layer and head carry over, the new layer is the base model's
    from knowledge.synthesis.reader_net import ReaderNet, body, load_trained

    deeper = ReaderNet(body("all-MiniLM-L6-v2", 2))
    base_layer_1 = deeper.body.encoder.layer[1].output.dense.weight.clone()
    with pytest.raises(ConfigError, match="does not fit"):
        load_trained(deeper, tmp_path / "r", body_file=BODY, head_file=HEAD)
    load_trained(deeper, tmp_path / "r", body_file=BODY, head_file=HEAD, grow=True)
    assert torch.equal(deeper.body.encoder.layer[0].output.dense.weight,
                       small.model.body.encoder.layer[0].output.dense.weight)
    assert torch.equal(deeper.body.encoder.layer[1].output.dense.weight, base_layer_1)
    grown = train(pairs, tmp_path / "r2", layers=2, epochs=1, batch_size=8, lr=5e-4,
                  init=tmp_path / "r")
    assert grown.steps >= 1 and json.loads((tmp_path / "r2" / "reader.json").read_text())[
        "layers"] == 2

    (tmp_path / "r" / BODY).unlink()
    with pytest.raises(ConfigError, match="train_answer_reader"):
        AnswerReader.load(tmp_path / "r")


def test_awkward_input_through_the_real_reader_is_cited_or_abstained(reader):
    """The issue's bad input, with the shipped reader and its calibrated policy deciding."""
    from knowledge.passages import build_passages
    from knowledge.synthesis.extractive import ExtractiveSynthesizer
    from tests.unit.test_extractive_answers import assert_grounded, hit

    synth = ExtractiveSynthesizer(reader=reader.score, reader_policy=reader.policy())
    table = "| setting | default |\n| --- | --- |\n" + "\n".join(
        f"| OPTION_{i} | value {i} |" for i in range(60))
    long = "The retention policy " + " ".join(f"clause{i}" for i in range(300)) + " applies."
    cases = [
        ([table, "```bash\nmake rollback ENV=prod\nmake verify\n```"],
         "what is the default of OPTION_3 setting"),
        ([long], "what does the retention policy say"),
        (["Развёртывание выполняется по будням. Откат занимает три минуты.",
          "デプロイは平日に行います。ロールバックは三分かかります。"], "デプロイはいつ？"),
        (["To set up the bot:\n\n1. create the app\n2. copy the token\n3. run lorebot serve"],
         "list all the steps to set up the bot"),
        (["Deploys happen at 14:00 UTC on weekdays."], "xylophone quokka zeppelin?"),
        (["Production deploys run at 14:00 UTC.", "Production deploys run at 16:00 UTC."],
         "When do production deploys run?"),
    ]
    for texts, question in cases:
        ps = build_passages([hit(i + 1, t) for i, t in enumerate(texts)])
        res = synth.synthesize(question, ps)
        assert (res.text == "" and res.abstain_reason) or res.abstain_reason is None
        if res.text:
            assert_grounded(res.text, ps)


def test_the_onnx_runtime_gives_torchs_logits():
    pytest.importorskip("onnxruntime")
    texts = [pair_text(c[1], c[2]) for c in CASES] + ["It rained."]
    onnx = AnswerReader.load(BUILTIN, runtime="onnx", int8=False)
    fp32 = AnswerReader.load(BUILTIN, runtime="torch", precision="fp32")
    assert onnx._onnx is not None and fp32._onnx is None and not onnx.int8
    assert np.allclose(onnx.score(CASES[0][0], texts), fp32.score(CASES[0][0], texts), atol=1e-3)


@pytest.fixture(scope="module")
def int8_reader() -> AnswerReader:
    pytest.importorskip("onnxruntime")
    return AnswerReader.load(BUILTIN, int8=True)


def test_the_int8_reader_stays_near_fp32(int8_reader, caplog):
    """int8 matrix multiplications move the logits a little (activations are quantised per
    batch), never enough to lose the answering sentence on these cases."""
    fp32 = AnswerReader.load(BUILTIN, runtime="onnx", int8=False)
    assert int8_reader.int8 and not fp32.int8
    with caplog.at_level("INFO"):
        assert AnswerReader.load(BUILTIN, int8=True).int8
    # ONNX Runtime's quantiser logs a note per tensor on the root logger: none reaches the logs.
    assert not [r for r in caplog.records if r.name == "root"]
    for question, answer, previous, distractors in CASES:
        texts = [pair_text(answer, previous)] + [pair_text(d, None) for d in distractors]
        got, want = int8_reader.score(question, texts), fp32.score(question, texts)
        assert np.max(np.abs(got - want)) < 1.0, (got, want)


def test_the_int8_reader_ranks_like_fp32(int8_reader):
    fp32 = AnswerReader.load(BUILTIN, runtime="onnx", int8=False)
    assert _firsts(int8_reader) == _firsts(fp32)


def test_a_quantisation_far_from_fp32_is_refused(monkeypatch, caplog):
    """A broken quantised model (here: logits shifted by 5) falls back to fp32 with a warning
    instead of answering from garbage."""
    pytest.importorskip("onnxruntime")
    from knowledge.synthesis import reader_net

    real = reader_net.OnnxReader.int8

    def shifted(self):
        q = real(self)
        return type("Broken", (), {"quantized": True,
                                   "__call__": lambda _s, batch: q(batch) + 5.0})()

    monkeypatch.setattr(reader_net.OnnxReader, "int8", shifted)
    with caplog.at_level("WARNING"):
        r = AnswerReader.load(BUILTIN, int8=True)
    assert not r.int8 and r._onnx is not None
    assert "stays in fp32" in caplog.text


def test_the_contradiction_setting_reaches_the_readers_policy(tmp_path):
    from bot.configs import synthesizer_from_settings
    from bot.settings import load_settings

    def policy(**overrides):
        settings = load_settings(_env_file=None, lorebot_data_dir=tmp_path, database_url=None,
                                 llm_provider="extractive", answer_reader="builtin", **overrides)
        return synthesizer_from_settings(settings).policy

    assert policy().contradictions is True  # the shipped policy's
    assert policy(answer_contradictions=False).contradictions is False
    assert policy(answer_contradictions=False).min_score == policy().min_score  # nothing else


def test_the_contradiction_setting_also_reaches_the_readerless_answer(tmp_path):
    from bot.configs import synthesizer_from_settings
    from bot.settings import load_settings

    def synth(**overrides):
        settings = load_settings(_env_file=None, lorebot_data_dir=tmp_path, database_url=None,
                                 llm_provider="extractive", answer_reader="off", **overrides)
        return synthesizer_from_settings(settings)

    assert synth().reader is None and synth().policy.contradictions is True
    assert synth(answer_contradictions=False).policy.contradictions is False
