"""Retrieval evaluation: metrics, the BEIR loader, and `lorebot eval retrieval` on a tiny set."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from knowledge.evaluation import EvalDataError, load_beir, mrr_at, ndcg_at, recall_at

CORPUS = [
    ("d1", "Rollback procedure", "To roll back a deploy run make rollback; it takes three minutes."),
    ("d2", "Payment errors", "Error E4127 means the payment gateway rejected the card token."),
    ("d3", "Vacation policy", "Employees get 28 days of paid vacation each year."),
    ("d4", "Office plants", "The ficus in the lobby is watered on Mondays."),
    ("d5", "Coffee machine", "Descale the coffee machine every two weeks with citric acid."),
]
QUERIES = [("q1", "how to revert a broken release"), ("q2", "what does E4127 mean"),
           ("q3", "how many vacation days do employees get"), ("q4", "unjudged question")]
QRELS = [("q1", "d1", 1), ("q2", "d2", 1), ("q3", "d3", 2), ("q3", "d5", 0)]


@pytest.fixture
def beir_dir(tmp_path):
    d = tmp_path / "tinyset"
    (d / "qrels").mkdir(parents=True)
    (d / "corpus.jsonl").write_text("\n".join(
        json.dumps({"_id": i, "title": t, "text": x}) for i, t, x in CORPUS))
    (d / "queries.jsonl").write_text("\n".join(json.dumps({"_id": i, "text": t}) for i, t in QUERIES))
    (d / "qrels" / "dev.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "\n".join(f"{q}\t{c}\t{s}" for q, c, s in QRELS))
    return d


def test_metrics_by_hand():
    rel = {"b": 1}
    assert ndcg_at(["a", "b", "c"], rel) == pytest.approx(1 / math.log2(3))
    assert ndcg_at(["b"], rel) == 1.0 and ndcg_at(["a"], rel) == 0.0
    assert ndcg_at(["x", "y"], {"x": 1, "y": 2}) == pytest.approx(
        (1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3)))
    assert recall_at(["a", "b"], {"b": 1, "z": 1}, 10) == 0.5
    assert recall_at(["a", "b"], {"b": 1}, 1) == 0.0
    assert mrr_at(["a", "b", "c"], {"c": 1}) == pytest.approx(1 / 3)


def test_loader_reads_split_and_ignores_zero_scores(beir_dir):
    data = load_beir(beir_dir, split="dev")
    assert len(data.corpus) == 5 and data.corpus["d2"]["title"] == "Payment errors"
    assert data.qrels == {"q1": {"d1": 1}, "q2": {"d2": 1}, "q3": {"d3": 2}}


def test_loader_errors_say_what_is_missing(beir_dir, tmp_path):
    with pytest.raises(EvalDataError, match="available splits: dev"):
        load_beir(beir_dir, split="test")
    with pytest.raises(EvalDataError, match="corpus.jsonl"):
        load_beir(tmp_path / "empty", split="dev")
    (beir_dir / "queries.jsonl").write_text("{not json\n")
    with pytest.raises(EvalDataError, match="not valid JSON"):
        load_beir(beir_dir, split="dev")


def test_eval_runs_each_arm_with_the_bot_retriever(beir_dir, settings, database):
    from bot.cli.eval_cmd import run_retrieval_eval

    report = run_retrieval_eval(settings=settings, db=database, folder=beir_dir, split="dev")
    assert report["collection"] == "eval-tinyset" and report["ingested_now"]
    arms = report["arms"]
    assert set(arms) == {"hybrid", "vector", "keyword"}
    assert arms["hybrid"]["queries"] == 3
    assert arms["hybrid"]["ndcg_10"] > 0.9 and arms["hybrid"]["recall_100"] == 1.0
    assert arms["keyword"]["recall_10"] < 1.0  # "revert a broken release" shares no word with d1
    assert arms["hybrid"]["latency_p95_ms"] >= arms["hybrid"]["latency_p50_ms"] > 0
    again = run_retrieval_eval(settings=settings, db=database, folder=beir_dir, split="dev",
                               modes=("vector",))
    assert not again["ingested_now"]  # unchanged corpus: reused, not re-ingested
    assert again["arms"]["vector"]["ndcg_10"] == arms["vector"]["ndcg_10"]


def test_cli_eval_and_ask_json(beir_dir, database, cli_env):
    from bot.cli.main import app

    cli_env.setenv("STYLE_MODEL_ENABLED", "false")
    runner = CliRunner()
    out = runner.invoke(app, ["eval", "retrieval", str(beir_dir), "--split", "dev", "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout[out.stdout.index("{"):])
    assert report["arms"]["hybrid"]["ndcg_10"] > 0.9
    bad = runner.invoke(app, ["eval", "retrieval", str(beir_dir), "--split", "nope"])
    assert bad.exit_code == 2 and "available splits" in bad.output
    out = runner.invoke(app, ["ask", "What does E4127 mean?", "--collection", "eval-tinyset",
                              "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout[out.stdout.index("{"):])
    assert payload["abstained"] is False and payload["interaction_id"]
    assert payload["sources"][0]["uri"] == "beir:d2"
    assert {"title", "uri", "score", "snippet"} <= set(payload["sources"][0])
    missing = runner.invoke(app, ["ask", "anything", "--collection", "nope"])
    assert missing.exit_code == 0 and "does not exist" in missing.stdout
