"""Whether the search indexes fit in Postgres's memory, and the advice doctor gives."""

from __future__ import annotations

from knowledge.store.footprint import SearchFootprint, search_footprint

MB = 2**20


def test_advice_only_when_the_indexes_outgrow_shared_buffers():
    assert SearchFootprint(index_bytes=50 * MB, shared_buffers_bytes=128 * MB).advice() is None
    advice = SearchFootprint(index_bytes=900 * MB, shared_buffers_bytes=128 * MB).advice()
    assert advice is not None
    assert "900 MB" in advice and "128 MB" in advice
    assert "shared_buffers = '1408MB'" in advice  # 1.5x, in whole 64 MB steps


def test_footprint_reads_the_search_indexes(database, settings):
    from tests.helpers.kb import load_kb

    with database.session() as s:
        empty = search_footprint(session=s)
    assert empty.shared_buffers_bytes >= 16 * MB
    load_kb(database, settings)
    with database.session() as s:
        loaded = search_footprint(session=s)
    assert loaded.index_bytes > empty.index_bytes > 0  # postings were added to the indexes

