"""`lorebot eval answers` end to end: a tiny SQuAD-layout folder ingested into the real embedded
Postgres, every question asked through the bot's answering service (extractive and, via a local
stand-in OpenAI-compatible server, an LLM provider)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.db

CORPUS = [
    ("deploy-000", "Deploying (1)", "Production deploys run every weekday at 14:00 UTC. The "
     "release manager approves each deploy in the #releases channel."),
    ("deploy-001", "Deploying (2)", "To roll back a bad deploy, run make rollback ENV=prod. It "
     "restores the previous release in about three minutes."),
    ("errors-000", "Errors (1)", "Error E4127 means the payment gateway rejected the card token. "
     "Retry the payment with a fresh token."),
]
QUESTIONS = [
    ("q1", "When do production deploys run?", ["14:00 UTC"], False, "deploy-000"),
    ("q2", "How do I roll back a bad deploy?", ["make rollback ENV=prod"], False, "deploy-001"),
    ("q3", "What does error E4127 mean?", ["the payment gateway rejected the card token"], False,
     "errors-000"),
    ("q4", "Who approves production deploys on weekends?", [], True, "deploy-000"),
]


@pytest.fixture
def qa_dir(tmp_path):
    d = tmp_path / "tinyqa"
    d.mkdir()
    (d / "corpus.jsonl").write_text("\n".join(json.dumps(
        {"id": i, "title": t, "text": x, "url": f"https://kb/{i}"}) for i, t, x in CORPUS))
    (d / "questions.jsonl").write_text("\n".join(json.dumps(
        {"id": i, "question": q, "answers": a, "is_impossible": imp, "paragraph_id": p})
        for i, q, a, imp, p in QUESTIONS))
    return d


def test_eval_answers_through_the_service(qa_dir, settings, database, tmp_path):
    from bot.cli.eval_answers import run_answers_eval

    settings.style_model_enabled = False
    plot = tmp_path / "answers.png"
    report = run_answers_eval(settings=settings, db=database, folder=qa_dir, plot=plot)
    assert report["collection"] == "eval-answers-tinyqa" and report["synthesis"] == "extractive"
    assert (report["answerable"], report["unanswerable"]) == (3, 1)
    answered = [o for o in report["_outcomes"] if not o.abstained and o.answerable]
    assert answered and report["hit"] is not None
    assert report["reference"]["retrieval_ceiling"] == 1.0
    assert report["cited_right_paragraph"] >= 2 / 3
    assert report["words_median"] <= 40
    assert {"search", "synthesize", "total"} <= set(report["latency"])
    assert plot.exists() and plot.stat().st_size > 1000
    assert report["tradeoff"] and all(0 <= c["abstained_answerable"] <= 1
                                      for c in report["tradeoff"])
    only = run_answers_eval(settings=settings, db=database, folder=qa_dir, split="Errors")
    assert only["questions"] == 1


def test_eval_answers_cli_json(qa_dir, cli_env, tmp_path):
    from bot.cli.main import app

    out = CliRunner().invoke(app, ["eval", "answers", str(qa_dir), "--json", "--limit", "2",
                                   "--plot", str(tmp_path / "p.png")])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output[out.output.index('{\n  "dataset"'):])
    assert report["questions"] == 2 and "_outcomes" not in report
    bad = CliRunner().invoke(app, ["eval", "answers", str(qa_dir), "--split", "Physics"])
    assert bad.exit_code == 2 and "articles: Deploying, Errors" in bad.output


def test_llm_provider_goes_through_eval_answers(qa_dir, settings, database):
    from bot.cli.eval_answers import run_answers_eval
    from tests.helpers.llm_server import StandInLLM as _ChatServer

    replies = ["Deploys run at 14:00 UTC on weekdays [1].", "The passages do not say."]
    with _ChatServer(replies) as srv:
        settings.style_model_enabled = False
        settings.llm_provider = "openai_compatible"
        settings.llm_api_base = srv.base
        settings.llm_model = "stand-in"
        report = run_answers_eval(settings=settings, db=database, folder=qa_dir, limit=2)
        system = srv.requests[0]["body"]["messages"][0]["content"]
    assert report["synthesis"] == "openai_compatible"
    first, second = report["_outcomes"]
    assert "14:00 UTC" in first.text and not first.abstained
    assert second.abstained and "could not find" in second.text.lower()  # honest, not fallback
    assert "shortest complete answer" in system and "The passages do not say." in system
