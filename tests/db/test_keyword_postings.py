"""The keyword arm's postings (``chunk_terms``) and its BM25 ranking, on a real database.

The postings are kept by triggers; these tests check they mirror the chunks through every kind
of write, and that the two-stage keyword search ranks exactly like BM25 computed from scratch.
"""

from __future__ import annotations

import math

import pytest
from sqlalchemy import text

from knowledge.evaluation import write_corpus
from knowledge.store.search import BM25_B, BM25_K1, SearchParams, search
from knowledge.types import Chunk, Document
from tests.helpers.kb import shared_embedder

# Chunks that share terms at different frequencies and lengths, so BM25's tf saturation,
# length normalisation and idf all move the ranking.
TEXTS = {
    "pump.md": ["The pump pressure alarm fires when pressure exceeds nine bar.",
                "Pump maintenance: grease the pump bearings monthly; the pump log lives in the wiki."],
    "valve.md": ["The relief valve opens at ten bar of pressure.",
                 "Valve inspections happen yearly, and a stuck valve raises alarm V12."],
    "tank.md": ["Tank levels are read every minute by the level sensor.",
                "A tank overflow alarm pages the operator on duty at once."],
    "misc.md": ["Lunch is served at noon in the canteen on the ground floor.",
                "Visitors sign in at reception and wear a badge at all times."],
}


def _write(database, settings, *, source="plant-a", collection="plant", texts=None) -> None:
    docs = []
    for path, chunks in (texts or TEXTS).items():
        doc = Document(external_id=path, text="\n".join(chunks), title=path, uri=f"docs/{path}",
                       metadata={"site": source})
        docs.append((doc, [Chunk(text=t, ordinal=i, heading_path=path) for i, t in enumerate(chunks)]))
    with database.session() as s:
        write_corpus(session=s, embedder=shared_embedder(settings), collection=collection,
                     source=source, docs=docs, kind="folder")


def _postings_mismatch(session) -> int:
    """Chunk lexemes without a posting plus postings without a chunk lexeme (0 = in step)."""
    return int(session.execute(text("""
        WITH want AS (SELECT c.id, u.lexeme, c.collection_id FROM chunks c, unnest(c.tsv) u),
             have AS (SELECT chunk_id AS id, lexeme, collection_id FROM chunk_terms)
        SELECT (SELECT count(*) FROM (SELECT * FROM want EXCEPT SELECT * FROM have) a)
             + (SELECT count(*) FROM (SELECT * FROM have EXCEPT SELECT * FROM want) b)
    """)).scalar_one())


def _bm25_from_scratch(session, question: str, collection: str) -> dict[int, float]:
    """BM25 over the question's searched lexemes, computed in Python from the tsvectors."""
    n = float(session.execute(text(
        "SELECT value FROM lorebot_meta WHERE key = 'term_stats_chunks'")).scalar_one())
    avglen = float(session.execute(text(
        "SELECT value FROM lorebot_meta WHERE key = 'term_stats_avglen'")).scalar_one())
    lexemes = session.execute(text(
        "SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('english', :q)))"), {"q": question}
    ).scalars().all()
    ndoc = dict(session.execute(text("SELECT lexeme, ndoc FROM term_stats WHERE lexeme = ANY(:l)"),
                                {"l": list(lexemes)}).all())
    idf = {w: math.log(1 + (n - d + 0.5) / (d + 0.5)) for w, d in ndoc.items()}
    rows = session.execute(text("""
        SELECT c.id, u.lexeme, coalesce(array_length(u.positions, 1), 1), length(c.tsv)
        FROM chunks c JOIN collections col ON col.id = c.collection_id, unnest(c.tsv) u
        WHERE col.name = :c AND u.lexeme = ANY(:l)"""), {"c": collection, "l": list(idf)}).all()
    scores: dict[int, float] = {}
    for cid, lexeme, tf, dl in rows:
        scores[cid] = scores.get(cid, 0.0) + idf[lexeme] * tf * (BM25_K1 + 1) / (
            tf + BM25_K1 * (1 - BM25_B + BM25_B * dl / avglen))
    return scores


def _keyword(database, question: str, **kw) -> list:
    params = SearchParams(collections=kw.pop("collections", ["plant"]), mode="keyword",
                          top_k=kw.pop("top_k", 5), candidates=kw.pop("candidates", 10), **kw)
    with database.session() as s:
        return search(session=s, params=params, query_text=question, query_vector=None)


def test_postings_follow_inserts_deletes_and_edits(database, settings):
    _write(database, settings)
    with database.session() as s:
        assert s.execute(text("SELECT count(*) FROM chunk_terms")).scalar_one() > 0
        assert _postings_mismatch(s) == 0
        # deleting a document deletes its chunks' postings (cascade), nothing else
        s.execute(text("DELETE FROM documents WHERE external_id = 'misc.md'"))
        assert _postings_mismatch(s) == 0
        assert s.execute(text("SELECT count(*) FROM chunk_terms WHERE lexeme = 'canteen'")).scalar_one() == 0
        # an in-place edit of a chunk's text gets fresh postings
        s.execute(text("UPDATE chunks SET text = 'The canteen pump is decorative.' "
                       "WHERE heading_path = 'tank.md' AND ordinal = 0"))
        assert _postings_mismatch(s) == 0
        assert s.execute(text("SELECT count(*) FROM chunk_terms WHERE lexeme = 'canteen'")).scalar_one() == 1
        # an embedding-only update (re-embedding) leaves the postings as they were
        before = s.execute(text("SELECT count(*), sum(weight) FROM chunk_terms")).one()
        s.execute(text("UPDATE chunks SET embedding = embedding"))
        assert s.execute(text("SELECT count(*), sum(weight) FROM chunk_terms")).one() == before


def test_posting_weight_is_the_bm25_term_weight(database, settings):
    _write(database, settings)
    with database.session() as s:  # the average length known when the next chunk is written
        avglen = float(s.execute(text(
            "SELECT value FROM lorebot_meta WHERE key = 'term_stats_avglen'")).scalar_one())
    _write(database, settings, source="plant-b", collection="plant", texts={"x.md": ["pump pump pump"]})
    with database.session() as s:
        weight, dl = s.execute(text(
            "SELECT ct.weight, length(c.tsv) FROM chunk_terms ct JOIN chunks c ON c.id = ct.chunk_id "
            "WHERE c.text = 'pump pump pump' AND ct.lexeme = 'pump'")).one()
    tf = 3  # the heading 'x.md' is its own lexeme; the text has one lexeme, thrice
    expected = tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * dl / avglen))
    assert weight == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("question", [
    "pump pressure alarm",
    "Which valve alarm is raised when a valve is stuck?",
    "tank overflow pages the operator",
])
def test_keyword_ranking_equals_bm25_from_scratch(database, settings, question):
    _write(database, settings)
    with database.session() as s:
        want = _bm25_from_scratch(s, question, "plant")
    hits = _keyword(database, question, top_k=5)
    assert want and hits
    expected = sorted(want, key=lambda cid: (-want[cid], cid))[: len(hits)]
    assert [h.chunk_id for h in hits] == expected
    for h in hits:
        assert h.keyword_rank == pytest.approx(want[h.chunk_id], rel=1e-6)


def test_short_posting_lists_are_rescored_exactly(database, settings):
    """With one posting read per term, stage 1 finds each term's best chunk only; stage 2 still
    gives every candidate its full BM25 score (all the question's terms it holds)."""
    _write(database, settings)
    question = "pump pressure alarm"
    with database.session() as s:
        want = _bm25_from_scratch(s, question, "plant")
    hits = _keyword(database, question, keyword_per_term=1, top_k=3, candidates=3)
    assert hits
    for h in hits:
        assert h.keyword_rank == pytest.approx(want[h.chunk_id], rel=1e-6)


def test_source_filter_applies_before_the_posting_limit(database, settings):
    """A source's chunk is found even when every top posting of the term is another source's."""
    _write(database, settings)
    _write(database, settings, source="plant-b", texts={"b.md": ["a long note that mentions the "
                                                                 "pump once among many other words"]})
    with database.session() as s:
        best = s.execute(text(
            "SELECT src.name FROM chunk_terms ct JOIN chunks c ON c.id = ct.chunk_id "
            "JOIN sources src ON src.id = c.source_id WHERE ct.lexeme = 'pump' "
            "ORDER BY ct.weight DESC LIMIT 1")).scalar_one()
    assert best == "plant-a"  # else this test would not test the filter's position
    hits = _keyword(database, "pump", sources=["plant-b"], keyword_per_term=1, top_k=1, candidates=1)
    assert [h.source for h in hits] == ["plant-b"]
    meta = _keyword(database, "pump", metadata={"site": "plant-b"}, keyword_per_term=1, top_k=1,
                    candidates=1)
    assert [h.source for h in meta] == ["plant-b"]


def test_collection_scope_applies_to_postings(database, settings):
    _write(database, settings)
    _write(database, settings, source="other", collection="other",
           texts={"o.md": ["pump pump pump pressure alarm"]})
    hits = _keyword(database, "pump pressure alarm", collections=["plant"], keyword_per_term=1)
    assert hits and {h.collection for h in hits} == {"plant"}
    other = _keyword(database, "pump pressure alarm", collections=["other"])
    assert {h.collection for h in other} == {"other"}
