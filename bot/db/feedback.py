"""Votes and corrections on answers: one vote per person per answer."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from bot.db.models import Feedback, Interaction, ReactionVote


def upsert_vote(
    *,
    session: Session,
    interaction_id: uuid.UUID,
    user_hash: str,
    value: int,
    signal: str,
    comment: str | None = None,
) -> Feedback:
    """Record or change a person's vote; a second vote by the same person replaces the first."""
    if value not in (-1, 1):
        raise ValueError("a vote is +1 or -1")
    stmt = (
        insert(Feedback)
        .values(interaction_id=interaction_id, user_hash=user_hash, value=value, signal=signal,
                comment=comment)
        .on_conflict_do_update(
            index_elements=[Feedback.interaction_id, Feedback.user_hash],
            set_={"value": value, "signal": signal, "updated_at": func.now(),
                  "comment": func.coalesce(insert(Feedback).excluded.comment, Feedback.comment)},
        )
        .returning(Feedback)
    )
    return session.execute(stmt).scalar_one()


def remove_vote(
    *, session: Session, interaction_id: uuid.UUID, user_hash: str, value: int | None = None
) -> bool:
    """Remove a person's vote (only if it is ``value``, when given). True if one was removed."""
    stmt = delete(Feedback).where(
        Feedback.interaction_id == interaction_id, Feedback.user_hash == user_hash
    )
    if value is not None:
        stmt = stmt.where(Feedback.value == value)
    return (session.execute(stmt).rowcount or 0) > 0


def add_comment(
    *, session: Session, interaction_id: uuid.UUID, user_hash: str, comment: str
) -> bool:
    fb = session.execute(
        select(Feedback).where(Feedback.interaction_id == interaction_id,
                               Feedback.user_hash == user_hash)
    ).scalar_one_or_none()
    if fb is None:
        return False
    fb.comment = comment[:2000]
    return True


def add_correction(
    *, session: Session, interaction_id: uuid.UUID, user_hash: str, text: str
) -> Feedback:
    """An admin's corrected answer: the strongest training signal for the style model."""
    stmt = (
        insert(Feedback)
        .values(interaction_id=interaction_id, user_hash=user_hash, value=1, signal="correction",
                correction=text)
        .on_conflict_do_update(
            index_elements=[Feedback.interaction_id, Feedback.user_hash],
            set_={"value": 1, "signal": "correction", "correction": text,
                  "updated_at": func.now()},
        )
        .returning(Feedback)
    )
    return session.execute(stmt).scalar_one()


def votes_for(*, session: Session, interaction_id: uuid.UUID) -> list[Feedback]:
    return list(
        session.execute(select(Feedback).where(Feedback.interaction_id == interaction_id))
        .scalars()
    )


def vote_totals(*, session: Session, since: datetime | None = None) -> dict[str, int]:
    stmt = select(Feedback.value, func.count()).group_by(Feedback.value)
    if since is not None:
        stmt = stmt.where(Feedback.created_at >= since)
    rows = dict(session.execute(stmt).all())
    return {"up": int(rows.get(1, 0)), "down": int(rows.get(-1, 0))}


def interaction_by_reply(
    *, session: Session, platform: str, reply_ref: str
) -> Interaction | None:
    return session.execute(
        select(Interaction).where(Interaction.platform == platform,
                                  Interaction.reply_ref == reply_ref)
    ).scalar_one_or_none()


def add_reaction_vote(
    *, session: Session, interaction_id: uuid.UUID, user_hash: str, emoji: str, value: int
) -> None:
    """Remember one vote emoji a person put on an answer (again: it counts as the newest)."""
    stmt = insert(ReactionVote).values(interaction_id=interaction_id, user_hash=user_hash,
                                       emoji=emoji, value=value,
                                       updated_at=func.clock_timestamp())
    session.execute(stmt.on_conflict_do_update(
        index_elements=[ReactionVote.interaction_id, ReactionVote.user_hash, ReactionVote.emoji],
        set_={"value": value, "updated_at": func.clock_timestamp()},
    ))


def remove_reaction_vote(
    *, session: Session, interaction_id: uuid.UUID, user_hash: str, emoji: str
) -> int | None:
    """Forget one vote emoji; the value the person's remaining vote emoji say (the newest), or
    None when none is left."""
    session.execute(delete(ReactionVote).where(
        ReactionVote.interaction_id == interaction_id, ReactionVote.user_hash == user_hash,
        ReactionVote.emoji == emoji))
    return session.execute(
        select(ReactionVote.value)
        .where(ReactionVote.interaction_id == interaction_id, ReactionVote.user_hash == user_hash)
        .order_by(ReactionVote.updated_at.desc()).limit(1)
    ).scalar_one_or_none()


def prune_comments(*, session: Session, older_than: datetime) -> int:
    """Blank free-text comments given before ``older_than`` (the vote itself stays for
    statistics; corrections stay, as the style model's training data, like their answers)."""
    result = session.execute(
        update(Feedback)
        .where(Feedback.created_at < older_than, Feedback.comment.is_not(None))
        .values(comment=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
