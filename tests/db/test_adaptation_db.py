"""Embedding adaptation on a real database: votes -> pairs, adapt -> version, background
re-embed with an atomic switch while questions keep being answered, rollback, the gate."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from bot.db import embedding_training as records
from bot.db.models import Feedback, Interaction
from knowledge.adaptation import switch
from knowledge.adaptation.adapt import adapt, labelled_from_feedback
from knowledge.adaptation.gate import decide, evaluate_encoder
from knowledge.adaptation.pairs import NoLabels, load_beir, pairs_from_votes
from knowledge.adaptation.reduce import create_reduced_space
from knowledge.adaptation.train import TrainConfig
from knowledge.embeddings import ModelNotFound, embedder_from_settings
from knowledge.store import spaces
from knowledge.store.search import SearchParams

pytestmark = pytest.mark.db


def _voted(session):
    return records.voted_questions(session=session)

TOPICS = [
    ("Rotating deploy keys", "Deploy keys are rotated every 90 days with the vault CLI.",
     "how often do we rotate deploy keys"),
    ("Oncall handover", "The oncall engineer hands over on Monday at 10:00 in the ops channel.",
     "when is the oncall handover"),
    ("Expense reports", "Submit expense reports through the finance portal within 30 days.",
     "where do I file my expenses"),
    ("VPN setup", "Install the WireGuard client and import the profile from the IT wiki.",
     "how do I set up the vpn"),
    ("Release freeze", "No production releases on Fridays after 14:00 or during holidays.",
     "can I ship to production on friday afternoon"),
    ("Database backups", "Postgres is backed up nightly to object storage and kept 35 days.",
     "how long are database backups retained"),
    ("Parental leave", "Employees get 16 weeks of paid parental leave, bookable in blocks.",
     "how many weeks of parental leave do we get"),
    ("Laptop refresh", "Laptops are replaced every three years; order through the IT shop.",
     "when can I get a new laptop"),
    ("Incident severity", "SEV1 means customers cannot log in; page the incident commander.",
     "what counts as a sev1 incident"),
    ("Code review", "Every pull request needs one approval from a code owner before merge.",
     "how many approvals does a pull request need"),
    ("Office wifi", "The guest wifi password is printed at the reception desk each morning.",
     "where is the guest wifi password"),
    ("Travel booking", "Book flights via the travel agency portal; economy for trips under 6h.",
     "can I fly business class"),
    ("Feature flags", "Feature flags live in LaunchDarkly; remove stale flags after 30 days.",
     "where do we manage feature flags"),
    ("Log retention", "Application logs are kept 14 days in Loki, audit logs one year.",
     "how long do we keep application logs"),
    ("Staging access", "Request staging access in the #infra-access channel with a ticket.",
     "how do I get access to staging"),
    ("Holiday calendar", "The company holiday calendar is in the HR handbook, updated yearly.",
     "where is the list of public holidays"),
    ("Dependency updates", "Renovate opens dependency update PRs every Monday morning.",
     "who updates our dependencies"),
    ("Customer data export", "Customers can export their data as CSV from account settings.",
     "how can a customer export their data"),
    ("Password policy", "Passwords need 14 characters; use the company password manager.",
     "what is the minimum password length"),
    ("Coffee machine", "Descale the coffee machine every Friday; tablets are in the drawer.",
     "how do I clean the coffee machine"),
]


def write_beir(root: Path) -> Path:
    (root / "qrels").mkdir(parents=True, exist_ok=True)
    (root / "corpus.jsonl").write_text("\n".join(
        json.dumps({"_id": f"d{i}", "title": t, "text": x}) for i, (t, x, _) in enumerate(TOPICS)))
    (root / "queries.jsonl").write_text("\n".join(
        json.dumps({"_id": f"q{i}", "text": q}) for i, (_, _, q) in enumerate(TOPICS)))
    (root / "qrels" / "train.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"q{i}\td{i}\t1\n" for i in range(len(TOPICS))))
    return root


def load_corpus(settings, database, folder: Path) -> dict[str, int]:
    """The labelled corpus as chunks (one per document); returns doc id -> chunk id."""
    from knowledge.evaluation import beir_documents, write_corpus
    from knowledge.evaluation import load_beir as parse

    data = parse(folder, split="train")
    with database.session() as s:
        write_corpus(session=s, embedder=embedder_from_settings(settings), collection="team",
                     source="handbook", docs=beir_documents(data))
        rows = s.execute(text("SELECT d.external_id, c.id FROM chunks c "
                              "JOIN documents d ON d.id = c.document_id")).all()
    return {ext: cid for ext, cid in rows}


@pytest.fixture
def beir(tmp_path: Path) -> Path:
    return write_beir(tmp_path / "labelled")


def _ask(database, question: str, cited: list[int], votes: list[int]) -> None:
    with database.session() as s:
        row = Interaction(platform="slack", channel="C1", asker_hash="h", question=question,
                          answer="...", cited=[{"chunk_id": c, "score": 0.5} for c in cited])
        s.add(row)
        s.flush()
        for n, v in enumerate(votes):
            s.add(Feedback(interaction_id=row.id, user_hash=f"u{n}", value=v, signal="reaction"))


def test_pairs_from_votes(settings, database, beir) -> None:
    ids = load_corpus(settings, database, beir)
    _ask(database, "How often do we rotate deploy keys?", [ids["d0"], ids["d1"]], [1, 1, -1])
    _ask(database, "how often do we rotate deploy keys?", [ids["d4"]], [-1])  # same question
    _ask(database, "when is the oncall handover", [ids["d2"]], [1, -1])  # net zero: no signal
    _ask(database, "can I fly business class", [ids["d3"]], [-1])  # only a 👎: no positive
    _ask(database, "unvoted question", [ids["d5"]], [])
    with database.session() as s:
        voted = records.voted_questions(session=s)
    by_key = {v.key: v for v in voted}
    rec = by_key["how often do we rotate deploy keys?"]
    assert rec.positive_chunk_ids == [ids["d0"], ids["d1"]]
    assert rec.negative_chunk_ids == [ids["d4"]]
    assert "when is the oncall handover" not in by_key and "unvoted question" not in by_key
    pairs = pairs_from_votes(voted)
    positives = [p for p in pairs if p.query_id == rec.key]
    assert len(positives) == 2 and all(p.negatives == (TOPICS[4][0] + "\n" + TOPICS[4][1],)
                                       for p in positives)
    labelled, negatives = labelled_from_feedback(database=database, voted_questions=_voted)
    assert set(labelled.qrels) == {rec.key}
    assert labelled.qrels[rec.key] == {str(ids["d0"]): 1, str(ids["d1"]): 1}
    assert negatives[rec.key] == [str(ids["d4"])] and len(labelled.corpus) == len(TOPICS)


def test_no_labels_yet_is_a_clear_message(settings, database, monkeypatch, tmp_path) -> None:
    with pytest.raises(NoLabels, match="vote"):
        labelled_from_feedback(database=database, voted_questions=_voted)
    from typer.testing import CliRunner

    from bot.cli.embeddings_cmd import app
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("LOREBOT_DATA_DIR", str(tmp_path / "cli-data"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["adapt", "--from-feedback"])
        assert result.exit_code == 2 and "vote" in result.output
        missing = CliRunner().invoke(app, ["adapt", "--from", str(tmp_path / "nope")])
        assert missing.exit_code == 2 and "does not exist" in missing.output
        listed = CliRunner().invoke(app, ["list"])
        assert listed.exit_code == 0 and "* base" in listed.output
    finally:
        get_settings.cache_clear()


def test_adapt_registers_a_gated_version(settings, database, beir) -> None:
    cfg = TrainConfig(epochs=1, batch_size=4, max_seq_length=32, max_steps=2, progress=False)
    with pytest.raises(ModelNotFound, match="does not exist"):
        adapt(database=database, settings=settings, beir_dir=str(beir), config=cfg,
              base_model=str(beir / "no-such-model"))
    report = adapt(database=database, settings=settings, beir_dir=str(beir), config=cfg)
    assert report.version == "adapted-1" and report.split["validation"] >= 1
    assert Path(report.path) == Path(settings.lorebot_data_dir) / "models/embeddings/adapted-1"
    assert (Path(report.path) / "config.json").exists()
    assert (Path(report.path) / "training_loss.png").exists()
    with database.session() as s:
        row = records.get_embedding_model(session=s, version="adapted-1")
        assert row is not None and row.dimension == 384
        assert row.status == ("candidate" if report.gate.passed else "rejected")
        assert row.metrics["gate"]["metric"] == "ndcg@10"
        assert row.metrics["training"]["steps"] == 2
        val = row.metrics["validation"]
        assert val["current"]["queries"] == val["candidate"]["queries"] == report.split["validation"]
        # the base model is registered too, and still the one serving
        assert records.active_version(session=s) is None
        assert records.get_embedding_model(session=s, version="base").status == "active"


class _SlowEncoder(switch.SpaceEncoder):
    """Widens the re-embed window so questions demonstrably arrive during it."""

    def reduce(self, vectors: np.ndarray) -> np.ndarray:
        time.sleep(0.15)
        return super().reduce(vectors)


def test_background_switch_rollback_while_serving(settings, database, beir) -> None:
    load_corpus(settings, database, beir)
    with pytest.raises(switch.SwitchError, match="nothing to roll back"):
        switch.rollback(database=database, settings=settings)
    report = create_reduced_space(database=database, settings=settings, halfvec=True,
                                  beir_dir=str(beir))
    assert report.version == "base-half" and report.space["storage"] == "halfvec"
    assert report.status == "candidate", report.gate
    params = SearchParams(collections=["team"], mode="vector", top_k=3, candidates=10)
    stop = threading.Event()
    answered: list[tuple[float, int, str]] = []
    errors: list[BaseException] = []

    def ask_forever() -> None:
        while not stop.is_set():
            try:
                with database.session() as s:
                    hits = switch.search_active(session=s, settings=settings, params=params,
                                                query_text="how long are database backups kept")
                    space = records.active_version(session=s) or "base"
                answered.append((time.monotonic(), len(hits), space))
            except BaseException as exc:  # noqa: BLE001 - the test reports it
                errors.append(exc)

    reader = threading.Thread(target=ask_forever)
    reader.start()
    try:
        job = switch.ReembedJob(database=database, settings=settings, version="base-half",
                                batch_size=2, encoder_factory=lambda spec, st: _SlowEncoder(
                                    spec, embedder_from_settings(st)))
        started = time.monotonic()
        job.start()
        result = job.wait(timeout=120)
        finished = time.monotonic()
        time.sleep(0.3)
    finally:
        stop.set()
        reader.join(30)
    assert errors == []
    assert result.status == "switched" and result.previous == "base" and result.vectors == len(TOPICS)
    during = [a for a in answered if started <= a[0] <= finished]
    assert during, "no question was answered while re-embedding"
    # every answer found vectors: the new space was never visible before it was complete
    assert all(n == 3 for _, n, _ in answered)
    assert {s for _, _, s in during} <= {"base", "base-half"}
    assert answered[-1][2] == "base-half"
    with database.session() as s:
        spec = switch.active_spec(session=s, settings=settings)
        assert spec.space.storage == "halfvec"
        assert spaces.counts(session=s, space=spec.space) == (len(TOPICS), len(TOPICS))
        assert s.execute(text("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
                              f"attrelid = '{spec.space.table}'::regclass AND attname = 'embedding'"
                              )).scalar() == "halfvec(384)"
        assert spaces.storage_bytes(session=s, space=spec.space)["index_bytes"] > 0
        top = switch.search_active(session=s, settings=settings, params=params,
                                   query_text="how long are database backups kept")
        assert top[0].title == "Database backups"
    # rollback and roll forward again; the kept table makes both instant
    assert switch.rollback(database=database, settings=settings) == ("base-half", "base")
    with database.session() as s:
        assert records.active_version(session=s) == "base"
        assert records.get_embedding_model(session=s, version="base-half").status == "retired"
    assert switch.rollback(database=database, settings=settings) == ("base", "base-half")


def test_failed_or_slow_reembed_leaves_the_old_space_serving(settings, database, beir) -> None:
    load_corpus(settings, database, beir)
    with database.session() as s:
        switch.ensure_base_registered(session=s, settings=settings)
        records.register_embedding_model(
            session=s, version="broken", base_model="x", path="all-MiniLM-L6-v2", dimension=384,
            metrics={"space": {"table": spaces.table_for("broken"), "storage": "vector",
                               "dimension": 384, "model_path": "all-MiniLM-L6-v2"}})
    calls = {"n": 0}

    class Failing(switch.SpaceEncoder):
        def encode(self, texts):
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("model crashed mid-way")
            return super().encode(texts)

    job = switch.ReembedJob(database=database, settings=settings, version="broken", batch_size=4,
                            encoder_factory=lambda spec, st: Failing(spec, embedder_from_settings(st)))
    report = job.run()
    assert report.status == "failed" and "crashed" in report.error
    slow = switch.activate(database=database, settings=settings, version="broken",
                           max_seconds=1e-6, batch_size=4)
    assert slow.wait().status == "too_slow"
    with database.session() as s:
        assert records.active_version(session=s) is None  # base still serves
        assert not spaces.space_exists(session=s, space=switch.spec_for(
            session=s, settings=settings, version="broken").space)
        assert records.get_embedding_model(session=s, version="broken").status == "failed"
        hits = switch.search_active(session=s, settings=settings, query_text="vpn setup",
                                    params=SearchParams(collections=["team"], mode="vector", top_k=1))
        assert hits[0].title == "VPN setup"


def test_gate_refuses_a_perturbed_model(settings, database, beir, tmp_path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from knowledge.embeddings import resolve_model_path

    path = resolve_model_path("all-MiniLM-L6-v2")
    model = AutoModel.from_pretrained(path)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * p.std() * 0.8)
    bad = tmp_path / "perturbed"
    model.save_pretrained(bad)
    AutoTokenizer.from_pretrained(path).save_pretrained(bad)
    labelled = load_beir(beir)
    qids = sorted(labelled.qrels)
    base_spec = switch.base_spec(settings)
    current, _, _ = evaluate_encoder(encoder=switch.encoder_for(base_spec, settings),
                                     labelled=labelled, query_ids=qids)
    worse_spec = switch.SpaceSpec(space=spaces.VectorSpace("perturbed", table="chunk_vectors_p"),
                                  model_path=str(bad))
    candidate, _, _ = evaluate_encoder(encoder=switch.encoder_for(worse_spec, settings),
                                       labelled=labelled, query_ids=qids)
    verdict = decide(current, candidate)
    assert not verdict.passed and "refused" in verdict.reason
    assert current["ndcg@10"] > 0.8  # the tiny set is easy for the real model
    with database.session() as s:
        switch.ensure_base_registered(session=s, settings=settings)
        records.register_embedding_model(session=s, version="perturbed", base_model="x",
                                         path=str(bad), dimension=384, status="rejected",
                                         metrics={"gate": verdict.to_json()})
    with pytest.raises(switch.SwitchError, match="did worse"):
        switch.activate(database=database, settings=settings, version="perturbed")


def test_pca_space_is_searched_with_projected_questions(settings, database, beir) -> None:
    load_corpus(settings, database, beir)
    report = create_reduced_space(database=database, settings=settings, pca=8, beir_dir=str(beir),
                                  tolerance=1.0)
    assert report.version == "base-pca8" and report.space["dimension"] == 8
    assert Path(report.space["projection"]).exists()
    job = switch.activate(database=database, settings=settings, version="base-pca8")
    assert job.wait().status == "switched"
    with database.session() as s:
        hits = switch.search_active(session=s, settings=settings, query_text="guest wifi password",
                                    params=SearchParams(collections=["team"], mode="hybrid", top_k=3))
        assert hits and hits[0].title == "Office wifi"
        assert switch.active_spec(session=s, settings=settings).space.sql_type == "vector(8)"
    # The bot's own retriever follows the switch: with the base vectors gone, only the active
    # space can still find the chunk by vector.
    from sqlalchemy import text as sql_text

    from knowledge.embeddings import embedder_from_settings
    from knowledge.retriever import HybridRetriever

    with database.session() as s:
        s.execute(sql_text("UPDATE chunks SET embedding = NULL"))
    retriever = HybridRetriever.from_settings(settings, session_factory=database.session,
                                              embedder=embedder_from_settings(settings),
                                              collections=["team"], mode="vector", top_k=3)
    hits = retriever.search_hits("guest wifi password")
    assert hits and hits[0].title == "Office wifi"
    assert HybridRetriever(session_factory=database.session, embedder=embedder_from_settings(settings),
                           collections=["team"], mode="vector", top_k=3).search_hits(
        "guest wifi password") == []
    # halfvec on top of the active PCA space: only the rounding is new (the PCA is not re-applied)
    half = create_reduced_space(database=database, settings=settings, halfvec=True,
                                beir_dir=str(beir), tolerance=1.0)
    assert half.space["storage"] == "halfvec" and half.space["dimension"] == 8
    assert half.gate["passed"]
    with pytest.raises(ValueError, match="needs at least 128"):
        # reducing is from the full-dimension space; the store has too few chunks for 128 dims
        with database.session() as s:
            records.set_meta(session=s, key=records.ACTIVE_KEY, value="base")
        create_reduced_space(database=database, settings=settings, pca=128, beir_dir=str(beir))


