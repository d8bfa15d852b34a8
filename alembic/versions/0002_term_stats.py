"""Term statistics for the keyword arm: how many chunks hold each lexeme.

Postgres' ``ts_rank`` has no notion of term rarity, so a question's common words swamp the
full-text ranking. With document frequencies the keyword arm ranks by BM25 and searches only
the question's informative terms.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "term_stats",
        sa.Column("lexeme", sa.Text(), nullable=False),
        sa.Column("ndoc", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("lexeme", name=op.f("pk_term_stats")),
    )
    # An existing index gets its statistics now, so keyword search works before the next ingest.
    op.execute("INSERT INTO term_stats (lexeme, ndoc) SELECT word, ndoc FROM ts_stat('SELECT tsv FROM chunks')")
    op.execute(
        "INSERT INTO lorebot_meta (key, value) VALUES "
        "('term_stats_chunks', (SELECT count(*) FROM chunks)::text), "
        "('term_stats_avglen', (SELECT coalesce(avg(length(tsv)), 1) FROM chunks)::text)"
    )


def downgrade() -> None:
    op.execute("DELETE FROM lorebot_meta WHERE key IN ('term_stats_chunks', 'term_stats_avglen')")
    op.drop_table("term_stats")
