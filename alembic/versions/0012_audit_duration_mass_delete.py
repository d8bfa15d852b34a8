"""The audit row is written before a command runs and completed after; mass deletes are recorded.

- ``audit_log.finished_at`` / ``audit_log.duration_ms``: the router writes the row (outcome
  ``running``) before the command runs and fills these in after, so a command that crashes the
  process, or a database error after it ran, still leaves its row.
- ``ingest_runs.allow_mass_delete``: the run was told it may delete more than
  ``INGEST_MAX_DELETE_FRACTION`` of the source (``--allow-mass-delete``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("audit_log", sa.Column("duration_ms", sa.Integer(), nullable=True))
    op.add_column("ingest_runs", sa.Column("allow_mass_delete", sa.Boolean(), nullable=False,
                                           server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("ingest_runs", "allow_mass_delete")
    op.drop_column("audit_log", "duration_ms")
    op.drop_column("audit_log", "finished_at")
