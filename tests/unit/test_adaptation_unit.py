"""Embedding adaptation without a database: splits, BEIR labels, pairs, training, reduction."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowledge.adaptation import reduce
from knowledge.adaptation.gate import decide
from knowledge.adaptation.pairs import (
    LabelledSetError,
    NoLabels,
    load_beir,
    mine_hard_negatives,
    pairs_from_labelled,
    pairs_from_votes,
    stable_split,
)
from knowledge.adaptation.train import TrainConfig, train_embedding_model
from knowledge.embeddings import ModelNotFound

DOCS = {
    "d1": ("Rotating deploy keys", "Deploy keys are rotated every 90 days with the vault CLI."),
    "d2": ("Oncall handover", "The oncall engineer hands over on Monday at 10:00 in the ops channel."),
    "d3": ("Expense reports", "Submit expense reports through the finance portal within 30 days."),
    "d4": ("VPN setup", "Install the WireGuard client and import the profile from the IT wiki."),
    "d5": ("Release freeze", "No production releases on Fridays after 14:00 or during holidays."),
    "d6": ("Database backups", "Postgres is backed up nightly to object storage and kept 35 days."),
}
QUERIES = {"q1": "how often do we rotate deploy keys", "q2": "when is oncall handover",
           "q3": "where do I file expenses", "q4": "how to set up the vpn",
           "q5": "can I release on friday", "q6": "how long are database backups kept"}


def write_beir(root: Path, *, qrels: list[tuple[str, str]] | None = None,
               skip: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "qrels").mkdir(exist_ok=True)
    if skip != "corpus.jsonl":
        (root / "corpus.jsonl").write_text("\n".join(
            json.dumps({"_id": k, "title": t, "text": x}) for k, (t, x) in DOCS.items()))
    (root / "queries.jsonl").write_text("\n".join(json.dumps({"_id": k, "text": v})
                                                  for k, v in QUERIES.items()))
    rows = qrels or [(f"q{i}", f"d{i}") for i in range(1, 7)]
    (root / "qrels" / "train.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, d in rows))
    return root


def _embed(model: str, text: str) -> np.ndarray:
    from knowledge.embeddings import shared_embedder

    return shared_embedder(model, 32, 256, "fp32").embed([text])


def test_stable_split_is_deterministic_and_order_free() -> None:
    ids = [str(i) for i in range(1000)]
    train, val = stable_split(ids, validation_fraction=0.2)
    train2, val2 = stable_split(list(reversed(ids)), validation_fraction=0.2)
    assert set(val) == set(val2) and set(train) == set(train2)
    assert not set(train) & set(val) and len(train) + len(val) == 1000
    assert 150 < len(val) < 250
    _, other = stable_split(ids, validation_fraction=0.2, salt="other")
    assert set(other) != set(val)


def test_load_beir_and_pairs(tmp_path: Path) -> None:
    data = load_beir(write_beir(tmp_path / "set"), split="train")
    assert len(data.corpus) == 6 and data.qrels["q1"] == {"d1": 1}
    assert data.corpus["d1"].startswith("Rotating deploy keys\n")
    pairs = pairs_from_labelled(data, ["q1", "q2"], hard_negatives={"q1": ["d5"]})
    assert [p.query for p in pairs] == [QUERIES["q1"], QUERIES["q2"]]
    assert pairs[0].negatives == (data.corpus["d5"],) and pairs[1].negatives == ()


def test_beir_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(LabelledSetError, match="corpus.jsonl"):
        load_beir(write_beir(tmp_path / "set", skip="corpus.jsonl"))
    with pytest.raises(LabelledSetError, match="dev.tsv"):
        load_beir(write_beir(tmp_path / "set2"), split="dev")
    with pytest.raises(LabelledSetError, match="does not exist"):
        load_beir(tmp_path / "nowhere")


def test_beir_unknown_ids_are_errors_with_the_line(tmp_path: Path) -> None:
    with pytest.raises(LabelledSetError, match=r"train.tsv:3 names document 'd99'"):
        load_beir(write_beir(tmp_path / "a", qrels=[("q1", "d1"), ("q2", "d99")]))
    with pytest.raises(LabelledSetError, match=r"names query 'q77'"):
        load_beir(write_beir(tmp_path / "b", qrels=[("q1", "d1"), ("q77", "d1")]))


def test_no_votes_is_a_clear_message() -> None:
    with pytest.raises(NoLabels, match="vote"):
        pairs_from_votes([])


def test_hard_negatives_skip_relevant_and_top_ranks() -> None:
    data = load_beir(write_beir(Path("/tmp") / f"hn-{id(object())}"))
    doc_ids = sorted(data.corpus)
    rng = np.random.default_rng(0)
    docs = rng.normal(size=(6, 8)).astype(np.float32)
    queries = docs[:2] + 0.01  # q1 ~ d1, q2 ~ d2
    negs = mine_hard_negatives(data, ["q1", "q2"], query_vectors=queries, doc_ids=doc_ids,
                               doc_vectors=docs, per_query=2, skip_top=0, depth=6)
    assert "d1" not in negs["q1"] and "d2" not in negs["q2"]
    assert len(negs["q1"]) == 2


def test_reductions_keep_unit_length_and_pca_roundtrip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    pca = reduce.fit_pca(x, 4)
    y = pca.apply(x)
    assert y.shape == (50, 4) and np.allclose(np.linalg.norm(y, axis=1), 1, atol=1e-5)
    assert 0 < pca.explained_variance < 1
    loaded = reduce.PCAProjection.load(pca.save(tmp_path / "p.npz"))
    assert np.allclose(loaded.apply(x), y)
    assert reduce.truncate(x, 3).shape == (50, 3)
    assert np.abs(reduce.to_half(x) - x).max() < 1e-3
    with pytest.raises(ValueError, match="at least 12 chunks; the corpus has 10"):
        reduce.fit_pca(x[:10], 12)
    with pytest.raises(ValueError, match="fitted on 16"):
        pca.apply(np.ones((1, 8)))


def test_gate_passes_equal_and_refuses_worse() -> None:
    assert decide({"ndcg@10": 0.5}, {"ndcg@10": 0.5}).passed
    assert not decide({"ndcg@10": 0.5}, {"ndcg@10": 0.49}).passed
    assert decide({"ndcg@10": 0.5}, {"ndcg@10": 0.49}, tolerance=0.02).passed


@pytest.mark.slow
def test_training_a_few_steps_saves_a_loadable_changed_model(tmp_path: Path) -> None:
    data = load_beir(write_beir(tmp_path / "set"))
    pairs = pairs_from_labelled(data, ["q1", "q2", "q3", "q4"], hard_negatives={"q1": ["d5"]})
    cfg = TrainConfig(epochs=1, batch_size=2, max_seq_length=32, max_steps=2, learning_rate=5e-4,
                      progress=False)
    # No held-out pairs: no early stopping, the trained weights are what is saved.
    result = train_embedding_model(base_model="all-MiniLM-L6-v2", train_pairs=pairs,
                                   validation_pairs=[], output_dir=tmp_path / "out", config=cfg)
    assert result.steps == 2 and len(result.step_losses) == 2 and result.best_epoch == 1
    assert result.plot is not None and result.plot.stat().st_size > 1000
    meta = json.loads((tmp_path / "out" / "lorebot_embedding.json").read_text())
    assert meta["pooling"] == "mean" and meta["base_model"] == "all-MiniLM-L6-v2"
    base = _embed("all-MiniLM-L6-v2", "deploy keys")
    tuned = _embed(str(tmp_path / "out"), "deploy keys")
    assert tuned.shape == (1, 384) and abs(float(np.linalg.norm(tuned)) - 1) < 1e-4
    assert not np.allclose(base, tuned, atol=1e-4)


@pytest.mark.slow
def test_training_that_only_hurts_keeps_the_starting_weights(tmp_path: Path) -> None:
    data = load_beir(write_beir(tmp_path / "set"))
    pairs = pairs_from_labelled(data, ["q1", "q2", "q3", "q4"])
    dev = pairs_from_labelled(data, ["q5", "q6"])
    # A learning rate this large wrecks the encoder; validation must notice and keep epoch 0.
    cfg = TrainConfig(epochs=1, batch_size=4, max_seq_length=32, max_steps=1, learning_rate=0.5,
                      warmup_ratio=0.0, progress=False)
    result = train_embedding_model(base_model="all-MiniLM-L6-v2", train_pairs=pairs,
                                   validation_pairs=dev, output_dir=tmp_path / "out", config=cfg)
    assert result.best_epoch == 0 and not result.improved
    assert result.history[1]["validation_loss"] > result.history[0]["validation_loss"]
    base = _embed("all-MiniLM-L6-v2", "deploy keys")
    kept = _embed(str(tmp_path / "out"), "deploy keys")
    assert np.allclose(base, kept, atol=1e-5)


def test_training_bad_input(tmp_path: Path) -> None:
    data = load_beir(write_beir(tmp_path / "set"))
    pairs = pairs_from_labelled(data, ["q1", "q2"])
    with pytest.raises(ModelNotFound, match="does not exist"):
        train_embedding_model(base_model=str(tmp_path / "no-such-model"), train_pairs=pairs,
                              validation_pairs=[], output_dir=tmp_path / "o")
    with pytest.raises(NoLabels, match="at least 2"):
        train_embedding_model(base_model="all-MiniLM-L6-v2", train_pairs=pairs[:1],
                              validation_pairs=[], output_dir=tmp_path / "o")
