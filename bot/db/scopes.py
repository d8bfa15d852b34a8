"""Which collections a channel may search."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from bot.db.models import ChannelScope, ForumChannel


def get_scope(*, session: Session, platform: str, channel: str) -> list[str] | None:
    """The channel's collections, or None when no scope is set for it."""
    return session.execute(
        select(ChannelScope.collections).where(
            ChannelScope.platform == platform, ChannelScope.channel == channel
        )
    ).scalar_one_or_none()


def set_scope(*, session: Session, platform: str, channel: str, collections: list[str]) -> None:
    stmt = insert(ChannelScope).values(platform=platform, channel=channel, collections=collections)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ChannelScope.platform, ChannelScope.channel],
            set_={"collections": stmt.excluded.collections},
        )
    )


def clear_scope(*, session: Session, platform: str, channel: str) -> bool:
    result = session.execute(
        delete(ChannelScope).where(ChannelScope.platform == platform,
                                   ChannelScope.channel == channel)
    )
    return (result.rowcount or 0) > 0


def list_scopes(*, session: Session, platform: str | None = None) -> list[ChannelScope]:
    stmt = select(ChannelScope).order_by(ChannelScope.platform, ChannelScope.channel)
    if platform:
        stmt = stmt.where(ChannelScope.platform == platform)
    return list(session.execute(stmt).scalars())


def allowed_collections(
    *, session: Session, platform: str, channel: str, default_collection: str
) -> list[str]:
    """What a question in this channel may cite: its scope, else the default ("none": nothing)."""
    scope = get_scope(session=session, platform=platform, channel=channel)
    if scope is not None:
        return list(scope)
    if default_collection.strip().lower() == "none":
        return []
    return [default_collection]


def enable_forum(*, session: Session, platform: str, channel: str, enabled_by: str) -> bool:
    """Answer every new post in this forum; False if it already was."""
    stmt = insert(ForumChannel).values(platform=platform, channel=channel, enabled_by=enabled_by)
    added = session.execute(stmt.on_conflict_do_nothing(
        index_elements=[ForumChannel.platform, ForumChannel.channel]
    ).returning(ForumChannel.channel)).first()
    return added is not None


def disable_forum(*, session: Session, platform: str, channel: str) -> bool:
    result = session.execute(delete(ForumChannel).where(ForumChannel.platform == platform,
                                                        ForumChannel.channel == channel))
    return (result.rowcount or 0) > 0


def is_forum_enabled(*, session: Session, platform: str, channel: str) -> bool:
    return session.execute(select(ForumChannel.channel).where(
        ForumChannel.platform == platform, ForumChannel.channel == channel)).first() is not None


def list_forums(*, session: Session, platform: str | None = None) -> list[ForumChannel]:
    stmt = select(ForumChannel).order_by(ForumChannel.platform, ForumChannel.channel)
    if platform:
        stmt = stmt.where(ForumChannel.platform == platform)
    return list(session.execute(stmt).scalars())
