"""Fusion options on a constructed case: hand-made vectors and texts, so the arms' lists are
known, against the real search statement (real Postgres, real BM25 postings)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from knowledge.evaluation import write_corpus
from knowledge.store.search import SearchParams, search
from knowledge.types import Chunk, Document

pytestmark = pytest.mark.db

DIM = 384


def _unit(sim: float) -> np.ndarray:
    """A unit vector with cosine ``sim`` to the question's vector e0."""
    v = np.zeros(DIM, dtype=np.float32)
    v[0], v[1] = sim, math.sqrt(max(0.0, 1 - sim * sim))
    return v


# name -> (cosine to the question, text). Only B and C contain the question's words;
# B more often, so the keyword arm ranks B then C.
DOCS = {
    "A": (0.95, "Vitamin supplements and bone health in older adults."),
    "B": (0.90, "Zebrafish regeneration: zebrafish fins regrow; zebrafish hearts regrow too."),
    "C": (0.10, "A zebrafish study of lighting in aquaria."),
    "D": (0.00, "Quarterly revenue grew in the northern region."),
}


class _FixedEmbedder:
    model_id = name = "fixed-test-vectors"
    dimension = DIM

    def __init__(self) -> None:
        self.by_text = {t: _unit(s) for s, t in DOCS.values()}

    def embed(self, texts):
        return np.stack([self.by_text[t] for t in texts])


@pytest.fixture
def store(database):
    rows = [(Document(external_id=k, text=t, title=k, uri=k), [Chunk(text=t, ordinal=0)])
            for k, (_, t) in DOCS.items()]
    with database.session() as s:
        write_corpus(session=s, embedder=_FixedEmbedder(), collection="fusion", source="fusion",
                     docs=rows)
    return database


def _run(db, fusion: str, **kw) -> list:
    params = SearchParams(collections=["fusion"], top_k=4, candidates=4, fusion=fusion, **kw)
    with db.session() as s:
        return search(session=s, params=params, query_text="zebrafish regrow",
                      query_vector=_unit(1.0))


def _expected(hits, fusion: str, wv: float = 1.0, wk: float = 1.0) -> dict[str, float]:
    sims = [h.similarity for h in hits if h.similarity is not None]
    krs = [h.keyword_rank for h in hits if h.keyword_rank is not None]

    def norm(x, xs):
        if fusion == "minmax":
            return 0.0 if x is None else (x - min(xs)) / (max(xs) - min(xs))
        mu, sd = float(np.mean(xs)), float(np.std(xs))
        return (min(xs) - mu) / sd if x is None else (x - mu) / sd

    return {h.title: wv * norm(h.similarity, sims) + wk * norm(h.keyword_rank, krs) for h in hits}


def test_rrf_and_normalised_fusion_rank_the_constructed_case_differently(store):
    rrf = _run(store, "rrf")
    # ranks: vector A, B, C, D; keyword B, C. RRF rewards C for being in both lists.
    assert [h.title for h in rrf] == ["B", "C", "A", "D"]
    assert [h.keyword_position for h in rrf] == [1, 2, None, None]
    minmax = _run(store, "minmax")
    # min-max: A's near-top cosine (1.0 normalised) beats C's second-best BM25 (0.0)
    assert [h.title for h in minmax] == ["B", "A", "C", "D"]
    expect = _expected(minmax, "minmax")
    for h in minmax:
        assert h.score == pytest.approx(expect[h.title], abs=1e-6)
    assert expect["A"] == pytest.approx(1.0) and expect["D"] == pytest.approx(0.0)


def test_zscore_fusion_and_arm_weights(store):
    z = _run(store, "zscore")
    expect = _expected(z, "zscore")
    assert [h.title for h in z] == sorted(expect, key=lambda t: -expect[t])
    for h in z:
        assert h.score == pytest.approx(expect[h.title], abs=1e-6)
    # a heavy vector weight lets the vector list decide: A (best cosine) overtakes B
    heavy = _run(store, "minmax", vector_weight=5.0, keyword_weight=0.1)
    assert [h.title for h in heavy] == ["A", "B", "C", "D"]
    expect = _expected(heavy, "minmax", 5.0, 0.1)
    for h in heavy:
        assert h.score == pytest.approx(expect[h.title], abs=1e-6)


def test_single_arm_modes_keep_their_own_order_under_every_fusion(store):
    for fusion in ("rrf", "minmax", "zscore"):
        vec = _run(store, fusion, mode="vector")
        assert [h.title for h in vec] == ["A", "B", "C", "D"]
        kw = _run(store, fusion, mode="keyword")
        assert [h.title for h in kw] == ["B", "C"]


def test_bad_fusion_settings_are_refused():
    with pytest.raises(ValueError, match="rrf, minmax, zscore"):
        SearchParams(collections=["x"], fusion="borda")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must not be negative"):
        SearchParams(collections=["x"], fusion="minmax", keyword_weight=-1)
