"""Per-person vote reactions and the forum channels lorebot answers.

- ``reaction_votes``: every vote emoji a person has on an answer. Removing one reaction used
  to delete the vote even when another vote reaction stayed on the message (👍🏽 and 👎, 👎
  removed: no vote); with the reactions on record the vote is what the remaining ones say.
- ``forum_channels``: forums where every new post is answered (``forum enable #forum``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "reaction_votes",
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("user_hash", sa.String(length=64), nullable=False),
        sa.Column("emoji", sa.String(length=100), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("value IN (-1, 1)", name=op.f("ck_reaction_votes_value_is_vote")),
        sa.ForeignKeyConstraint(["interaction_id"], ["interactions.id"], ondelete="CASCADE",
                                name=op.f("fk_reaction_votes_interaction_id_interactions")),
        sa.PrimaryKeyConstraint("interaction_id", "user_hash", "emoji", name=op.f("pk_reaction_votes")),
    )
    op.create_table(
        "forum_channels",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("enabled_by", sa.String(length=200), server_default="", nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("platform", "channel", name=op.f("pk_forum_channels")),
    )


def downgrade() -> None:
    op.drop_table("forum_channels")
    op.drop_table("reaction_votes")
