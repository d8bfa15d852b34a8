"""Document frequencies of lexemes, for the BM25 keyword arm of search.

Recomputed from the chunks' generated ``tsvector`` column with ``ts_stat`` after an ingest
changed something; a few hundred milliseconds at 5k chunks, seconds at 100k, and off the
question path entirely.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

TOTAL_KEY = "term_stats_chunks"
AVGLEN_KEY = "term_stats_avglen"


def refresh_term_stats(*, session: Session) -> int:
    """Rebuild ``term_stats`` from the chunks; returns how many lexemes it holds."""
    session.execute(text("DELETE FROM term_stats"))
    session.execute(text(
        "INSERT INTO term_stats (lexeme, ndoc) "
        "SELECT word, ndoc FROM ts_stat('SELECT tsv FROM chunks')"
    ))
    session.execute(
        text("INSERT INTO lorebot_meta (key, value) VALUES (:k, (SELECT count(*) FROM chunks)::text) "
             "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()"),
        {"k": TOTAL_KEY},
    )
    session.execute(
        text("INSERT INTO lorebot_meta (key, value) "
             "VALUES (:k, (SELECT coalesce(avg(length(tsv)), 1) FROM chunks)::text) "
             "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()"),
        {"k": AVGLEN_KEY},
    )
    return int(session.execute(text("SELECT count(*) FROM term_stats")).scalar_one())


def term_stats_stale(*, session: Session) -> bool:
    """True when the statistics were never built for a non-empty store."""
    row = session.execute(
        text("SELECT value FROM lorebot_meta WHERE key = :k"), {"k": TOTAL_KEY}
    ).scalar_one_or_none()
    if row is None:
        return bool(session.execute(text("SELECT EXISTS (SELECT 1 FROM chunks)")).scalar())
    return False
