"""Reduced vector spaces next to the full one in `lorebot eval retrieval`, and reductions
chosen by setting."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bot.settings import load_settings
from knowledge.adaptation.compare import Reducer, Variant
from tests.db.test_adaptation_db import write_beir


def test_variant_specs_parse_and_name_themselves():
    assert Variant.parse("pca256+halfvec") == Variant(storage="halfvec", pca=256)
    assert Variant.parse("halfvec").name == "halfvec"
    assert Variant.parse("TRUNC128").name == "trunc128"
    assert Variant.parse("pca64+halfvec").name == "pca64+halfvec"
    assert Variant().is_full and Variant().name == "full"
    for bad in ("pca", "float8", "pca64+trunc32", "pca0"):
        with pytest.raises(ValueError):
            Variant.parse(bad)


def test_variant_from_settings(tmp_path):
    base = {"lorebot_data_dir": tmp_path}
    assert Variant.from_settings(load_settings(**base)).is_full
    assert Variant.from_settings(load_settings(**base, embedding_storage="halfvec")) == Variant("halfvec")
    assert Variant.from_settings(load_settings(**base, embedding_dimensions=128)) == Variant(pca=128)
    assert Variant.from_settings(load_settings(
        **base, embedding_dimensions=64, embedding_reduction="truncate")) == Variant(truncate=64)


def test_reducer_keeps_unit_length_and_rounds_for_halfvec():
    rng = np.random.default_rng(0)
    corpus = rng.normal(size=(40, 16)).astype(np.float32)
    corpus /= np.linalg.norm(corpus, axis=1, keepdims=True)
    out = Reducer.fit(Variant(storage="halfvec", pca=4), corpus)(corpus)
    assert out.shape == (40, 4)
    assert np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-3)
    assert np.array_equal(out, out.astype(np.float16).astype(np.float32))
    with pytest.raises(ValueError, match="only have 16"):
        Reducer.fit(Variant(pca=16), corpus)


@pytest.fixture
def beir(tmp_path):
    return write_beir(tmp_path / "team-set")


def _space_tables(database) -> list[str]:
    with database.session() as s:
        return list(s.execute(text(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'chunk_vectors_%'")).scalars())


def test_eval_reports_spaces_side_by_side(beir, settings, database):
    from bot.cli.eval_cmd import run_retrieval_eval

    report = run_retrieval_eval(settings=settings, db=database, folder=beir, split="train",
                                modes=("vector",), loader="minimal",
                                variants=(Variant("halfvec"), Variant(pca=8)))
    rows = {(r["space"], r["mode"]): r for r in report["spaces"]}
    assert set(rows) == {(s, m) for s in ("full", "halfvec", "pca8") for m in ("vector", "hybrid")}
    full, half, pca = rows["full", "vector"], rows["halfvec", "vector"], rows["pca8", "vector"]
    # the full scratch space ranks like the bot's own vector arm on the same questions
    assert full["ndcg_10"] == pytest.approx(report["arms"]["vector"]["ndcg_10"], abs=1e-4)
    assert full["dimension"] == 384 and pca["dimension"] == 8
    assert half["vector_bytes"] < 0.55 * full["vector_bytes"]  # 2 bytes a component, not 4
    assert pca["vector_bytes"] < 0.1 * full["vector_bytes"]
    assert all(r["index_bytes"] > 0 and r["latency_p95_ms"] >= r["latency_p50_ms"] > 0
               for r in rows.values())
    assert half["ndcg_10"] == pytest.approx(full["ndcg_10"], abs=0.02)
    assert 0 < pca["explained_variance"] < 1 and full["explained_variance"] is None
    assert _space_tables(database) == []  # scratch tables are dropped afterwards


def test_cli_eval_includes_the_configured_reduction(beir, database, cli_env):
    from bot.cli.main import app

    cli_env.setenv("EMBEDDING_STORAGE", "halfvec")
    runner = CliRunner()
    out = runner.invoke(app, ["eval", "retrieval", str(beir), "--split", "train",
                              "--space", "pca8", "--limit-queries", "6"])
    assert out.exit_code == 0, out.output
    assert "vector spaces" in out.stdout
    table = [line.split()[0] for line in out.stdout.splitlines()
             if line.split()[:1] and line.split()[0] in ("full", "halfvec", "pca8")]
    assert table.count("full") == 2 and table.count("halfvec") == 2 and table.count("pca8") == 2
    bad = runner.invoke(app, ["eval", "retrieval", str(beir), "--split", "train",
                              "--space", "float8"])
    assert bad.exit_code == 2 and "unknown vector space" in bad.output


def test_embeddings_reduce_takes_its_reduction_from_settings(beir, settings, database, cli_env):
    from bot.cli.main import app
    from bot.settings import get_settings
    from tests.db.test_adaptation_db import load_corpus

    load_corpus(settings, database, beir)
    runner = CliRunner()
    nothing = runner.invoke(app, ["embeddings", "reduce", "--from", str(beir)])
    assert nothing.exit_code == 2 and "EMBEDDING_STORAGE=halfvec" in nothing.output
    cli_env.setenv("EMBEDDING_STORAGE", "halfvec")
    get_settings.cache_clear()
    out = runner.invoke(app, ["embeddings", "reduce", "--from", str(beir), "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout[out.stdout.index("{"):])
    assert report["version"] == "base-half" and report["space"]["storage"] == "halfvec"
    assert report["space"]["dimension"] == 384
