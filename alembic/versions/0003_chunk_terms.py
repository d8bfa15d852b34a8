"""Postings for the keyword arm: one row per (chunk, lexeme): term frequency, chunk length, and
the BM25 term weight.

Scoring BM25 from the chunks' ``tsvector`` meant unnesting the vector of every chunk that held
any of the question's terms: seconds at 100k chunks. With postings ordered by their BM25 weight
per lexeme and collection, the keyword arm reads the best few hundred postings of each question
term from an index and re-scores only the leading candidates exactly (from tf and dl, looked up
by primary key).

Triggers keep the postings in step with ``chunks`` whatever writes them (the ingest's COPY,
the evaluation loader, a hand-run INSERT); deleting a chunk deletes its postings (cascade).
The stored weight uses the average chunk length known when the chunk was written (that of
its own batch in an empty store); it only
orders postings within a lexeme, the final score is computed exactly at search time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# BM25 k1 = 1.2, b = 0.75, as knowledge/store/search.py (a test checks the two agree).
_POSTINGS = """
  SELECT n.id, x.lexeme, n.collection_id, x.tf, length(n.tsv),
         (x.tf::float8 * 2.2 / (x.tf::float8 + 1.2 * (0.25 + 0.75 * length(n.tsv) / greatest(a.avglen, 1))))::real
  FROM {rows} n
  CROSS JOIN (SELECT coalesce(
      (SELECT a.value::float8 FROM lorebot_meta a JOIN lorebot_meta c ON c.key = 'term_stats_chunks'
       WHERE a.key = 'term_stats_avglen' AND c.value::bigint > 0),
      (SELECT avg(length(tsv))::float8 FROM {rows}), 1) AS avglen) a
  CROSS JOIN LATERAL (
    SELECT u.lexeme, coalesce(array_length(u.positions, 1), 1)::smallint AS tf
    FROM unnest(n.tsv) u) x
"""


def upgrade() -> None:
    op.create_table(
        "chunk_terms",
        sa.Column("chunk_id", sa.BigInteger(), nullable=False),
        sa.Column("lexeme", sa.Text(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("tf", sa.SmallInteger(), nullable=False),
        sa.Column("dl", sa.Integer(), nullable=False),
        sa.Column("weight", sa.REAL(), nullable=False),
        sa.ForeignKeyConstraint(["chunk_id"], ["chunks.id"], name=op.f("fk_chunk_terms_chunk_id_chunks"),
                                ondelete="CASCADE"),
        # tf and dl ride in the key's index, so exact re-scoring is an index-only lookup
        sa.PrimaryKeyConstraint("chunk_id", "lexeme", name=op.f("pk_chunk_terms"),
                                postgresql_include=["tf", "dl"]),
    )
    op.execute(
        "CREATE FUNCTION lorebot_chunk_terms_insert() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  INSERT INTO chunk_terms (chunk_id, lexeme, collection_id, tf, dl, weight)"
        + _POSTINGS.format(rows="new_rows") + ";\n"
        "  RETURN NULL;\n"
        "END $$"
    )
    # Chunks are written once and replaced, never edited in place; an UPDATE that changes the
    # text or the collection anyway gets fresh postings.
    changed = ("(SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id "
               "WHERE o.tsv IS DISTINCT FROM n.tsv OR o.collection_id IS DISTINCT FROM n.collection_id)")
    op.execute(
        "CREATE FUNCTION lorebot_chunk_terms_update() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  DELETE FROM chunk_terms WHERE chunk_id IN (SELECT id FROM {changed});\n"
        "  INSERT INTO chunk_terms (chunk_id, lexeme, collection_id, tf, dl, weight)"
        + _POSTINGS.format(rows=changed) + ";\n"
        "  RETURN NULL;\n"
        "END $$"
    )
    op.execute(
        "CREATE TRIGGER chunk_terms_after_insert AFTER INSERT ON chunks "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION lorebot_chunk_terms_insert()"
    )
    op.execute(
        "CREATE TRIGGER chunk_terms_after_update AFTER UPDATE ON chunks "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION lorebot_chunk_terms_update()"
    )
    # An existing index gets its postings now, so searches keep working right after upgrading.
    op.execute("INSERT INTO chunk_terms (chunk_id, lexeme, collection_id, tf, dl, weight)"
               + _POSTINGS.format(rows="chunks"))
    op.create_index(
        "ix_chunk_terms_lookup", "chunk_terms",
        ["lexeme", "collection_id", sa.text("weight DESC")],
        postgresql_include=["chunk_id"],
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS chunk_terms_after_update ON chunks")
    op.execute("DROP TRIGGER IF EXISTS chunk_terms_after_insert ON chunks")
    op.execute("DROP FUNCTION IF EXISTS lorebot_chunk_terms_update()")
    op.execute("DROP FUNCTION IF EXISTS lorebot_chunk_terms_insert()")
    op.drop_index("ix_chunk_terms_lookup", table_name="chunk_terms")
    op.drop_table("chunk_terms")
