"""``forum enable|disable|list`` through the real router and ``LoreBot.on_forum_post`` /
``LoreBot.complete`` on the real database."""

from __future__ import annotations

import pytest

from bot.core import LoreBot
from bot.db import sources as sources_db
from bot.types import Actor, ChannelRef, IncomingMessage

pytestmark = pytest.mark.db

ADMIN = Actor("discord", "999")
MEMBER = Actor("discord", "123")
HERE = ChannelRef("discord", "500")


def _post(forum: str, thread: str, text: str = "Friday deploys?") -> IncomingMessage:
    return IncomingMessage(platform="discord", channel=ChannelRef("discord", forum),
                           user=MEMBER, text=text, message_id=thread, thread_id=thread,
                           event_id=thread)


@pytest.fixture
def core(settings, database) -> LoreBot:
    return LoreBot(settings=settings.model_copy(update={"lorebot_admins": ["discord:999"]}),
                   db=database)


def test_forum_commands_store_the_forum_and_posts_follow_them(core) -> None:
    assert core.on_forum_post(_post("700", "801")) is None  # not enabled yet
    refused = core.command("forum enable <#700>", actor=MEMBER, channel=HERE)
    assert not refused.ok and "admins only" in refused.text
    assert core.command("forum enable <#700>", actor=ADMIN, channel=HERE).ok
    again = core.command("forum enable <#700>", actor=ADMIN, channel=HERE)
    assert "already" in again.text
    assert "discord:700 (enabled by discord:999)" in core.command("forum list", actor=ADMIN,
                                                                  channel=HERE).text
    reply = core.on_forum_post(_post("700", "802"))
    assert reply is not None and (reply.kind, reply.question, reply.thread) == (
        "answer", "Friday deploys?", "802")
    assert core.on_forum_post(_post("700", "802")) is None  # redelivered: answered once
    assert core.on_forum_post(_post("700", "803", text="   ")) is None  # nothing to ask
    assert core.on_forum_post(_post("701", "804")) is None  # another forum
    assert core.command("forum disable <#700>", actor=ADMIN, channel=HERE).ok
    assert core.on_forum_post(_post("700", "805")) is None
    assert "no forum" in core.command("forum list", actor=ADMIN, channel=HERE).text


def test_forum_enable_refuses_slack_channels(core) -> None:
    result = core.command("forum enable slack:C123", actor=ADMIN, channel=HERE)
    assert not result.ok and "Discord feature" in result.text


def test_complete_lists_names_by_prefix_for_admins(core, database) -> None:
    with database.session() as s:
        for name, coll in (("handbook", "hr"), ("Hiring_guide", "hr"), ("runbooks", "eng")):
            sources_db.create_source(session=s, name=name, kind="folder", location="/tmp",
                                     collection=coll)
    assert sorted(core.complete("source", "h", actor=ADMIN)) == ["Hiring_guide", "handbook"]
    assert core.complete("source", "hi", actor=ADMIN) == ["Hiring_guide"]
    assert core.complete("source", "%", actor=ADMIN) == []  # LIKE wildcards are literal
    assert core.complete("collection", "", actor=ADMIN) == ["eng", "hr"]
    assert core.complete("source", "h", actor=MEMBER) == []
    assert core.complete("model_version", "", actor=ADMIN) == []
    with pytest.raises(ValueError, match="nothing to complete"):
        core.complete("channel", "", actor=ADMIN)
