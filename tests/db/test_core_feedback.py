"""The core facade's feedback, reply mapping and exactly-once event claims, on a real database."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select

from bot.core import LoreBot
from bot.db import scopes
from bot.db.models import Feedback, Interaction
from bot.types import Actor, ChannelRef, IncomingMessage, Reaction, Reply

pytestmark = pytest.mark.db


def _interaction(database, **kw) -> uuid.UUID:
    with database.session() as s:
        row = Interaction(platform=kw.get("platform", "slack"), channel="C1", thread=kw.get("thread"),
                          asker_hash="h", question="q?", answer="a [1]")
        s.add(row)
        s.flush()
        return row.id


def test_one_vote_per_person_and_unvote(settings, database) -> None:
    core = LoreBot(settings=settings, db=database)
    iid = _interaction(database)
    core.attach_reply(interaction_id=iid, reply_ref="1700.01")
    alice = Actor("slack", "UALICE")
    assert core.vote(user=alice, value=1, signal="reaction", reply_ref="1700.01")
    assert core.vote(user=alice, value=-1, signal="button", interaction_id=iid)
    assert core.vote(user=Actor("slack", "UBOB"), value=1, signal="button", interaction_id=iid)
    with database.session() as s:
        rows = s.execute(select(Feedback.value, Feedback.user_hash)).all()
    assert sorted(v for v, _ in rows) == [-1, 1]
    # user ids are never stored, only salted hashes
    assert all("UALICE" not in h and "UBOB" not in h for _, h in rows)
    # removing the 👍 reaction must not remove alice's 👎 vote
    assert not core.unvote(user=alice, value=1, reply_ref="1700.01")
    assert core.unvote(user=alice, value=-1, reply_ref="1700.01")
    with database.session() as s:
        assert s.execute(select(Feedback)).scalars().all()[0].value == 1


def test_vote_on_unknown_message_is_ignored(settings, database) -> None:
    core = LoreBot(settings=settings, db=database)
    assert core.vote(user=Actor("slack", "U1"), value=1, signal="reaction", reply_ref="nope") is False
    assert core.unvote(user=Actor("slack", "U1"), reply_ref="nope") is False


def test_comment_attaches_to_existing_vote(settings, database) -> None:
    core = LoreBot(settings=settings, db=database)
    iid = _interaction(database)
    u = Actor("discord", "42")
    assert not core.comment(user=u, interaction_id=iid, text="no vote yet")
    core.vote(user=u, value=-1, signal="button", interaction_id=iid)
    assert core.comment(user=u, interaction_id=iid, text="outdated page")
    with database.session() as s:
        assert s.execute(select(Feedback.comment)).scalar_one() == "outdated page"


def test_event_claimed_once_across_threads(settings, database) -> None:
    core = LoreBot(settings=settings, db=database)
    results: list[bool] = []
    lock = threading.Lock()

    def claim() -> None:
        ok = core.claim_event(platform="slack", event_id="Ev123")
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1 and len(results) == 6
    assert core.claim_event(platform="discord", event_id="Ev123")  # ids are per platform


def test_bot_thread_detection(settings, database) -> None:
    core = LoreBot(settings=settings, db=database)
    iid = _interaction(database, thread="1700.5")
    assert core.is_bot_thread(platform="slack", channel="C1", thread="1700.5")
    assert not core.is_bot_thread(platform="slack", channel="C1", thread="1800.0")
    core.attach_reply(interaction_id=iid, reply_ref="1900.1")
    assert core.is_bot_thread(platform="slack", channel="C1", thread="1900.1")


def test_on_message_follow_ups_use_the_database_and_answer_once(settings, database) -> None:
    """The real core's two database-backed inbound checks, for every platform alike."""
    core = LoreBot(settings=settings, db=database)
    _interaction(database, platform="discord", thread="T1")

    def follow(text: str, event_id: str, thread: str = "T1") -> IncomingMessage:
        return IncomingMessage(platform="discord", channel=ChannelRef("discord", "C1"),
                               user=Actor("discord", "42"), text=text, message_id=event_id,
                               thread_id=thread, event_id=event_id)

    assert core.on_message(follow("and on Fridays?", "m1")) == Reply("answer", "and on Fridays?",
                                                                     thread="T1")
    assert core.on_message(follow("and on Fridays?", "m1")) is None  # a redelivery
    assert core.on_message(follow("thanks!", "m2")) is None
    assert core.on_message(follow("and on Fridays?", "m3", thread="T9")) is None  # not lorebot's


def test_on_reaction_maps_emoji_from_settings_for_every_platform(settings, database) -> None:
    core = LoreBot(settings=settings.model_copy(update={"discord_upvote_emoji": ["🚀"]}), db=database)
    iid = _interaction(database, platform="discord")
    core.attach_reply(interaction_id=iid, reply_ref="999")

    def react(emoji: str, added: bool = True, event_id: str | None = None) -> Reaction:
        return Reaction(platform="discord", channel=ChannelRef("discord", "C1"),
                        user=Actor("discord", "42"), message_id="999", emoji=emoji, added=added,
                        event_id=event_id)

    assert not core.on_reaction(react("👍"))  # not a vote with these settings
    assert core.on_reaction(react("🚀", event_id="E1"))
    assert not core.on_reaction(react("🚀", event_id="E1"))  # a retried delivery
    with database.session() as s:
        assert s.execute(select(Feedback.value, Feedback.signal)).one() == (1, "reaction")
    assert core.on_reaction(react("🚀", added=False))
    with database.session() as s:
        assert s.execute(select(Feedback)).scalars().all() == []


def test_the_vote_is_what_the_remaining_reactions_say_on_slack_too(settings, database) -> None:
    """Slack names skin tones ``+1::skin-tone-3``: 👍🏽 and 👎, then 👎 removed, leaves 👍; a
    button vote is not taken away by removing a reaction of the other kind."""
    core = LoreBot(settings=settings, db=database)
    iid = _interaction(database)
    core.attach_reply(interaction_id=iid, reply_ref="1700.02")

    def react(emoji: str, added: bool = True, user: str = "UALICE") -> bool:
        return core.on_reaction(Reaction(platform="slack", channel=ChannelRef("slack", "C1"),
                                         user=Actor("slack", user), message_id="1700.02",
                                         emoji=emoji, added=added))

    def votes() -> list[tuple[int, str]]:
        with database.session() as s:
            return [tuple(r) for r in s.execute(select(Feedback.value, Feedback.signal))]

    assert react("+1::skin-tone-3") and react("-1")
    assert votes() == [(-1, "reaction")]
    assert react("-1", added=False)
    assert votes() == [(1, "reaction")]
    # two up reactions (👍 and ✅ style): removing one keeps the vote
    assert react("thumbsup") and react("+1::skin-tone-3", added=False)
    assert votes() == [(1, "reaction")]
    assert react("thumbsup", added=False)
    assert votes() == []
    # removing a reaction never recorded (from before this version) leaves a button vote
    assert core.vote(user=Actor("slack", "UBOB"), value=-1, signal="button", interaction_id=iid)
    assert not react("+1", added=False, user="UBOB")  # no such reaction: the button vote stays
    assert votes() == [(-1, "button")]


def test_scope_resolution(settings, database) -> None:
    with database.session() as s:
        assert scopes.allowed_collections(session=s, platform="slack", channel="C1",
                                          default_collection="default") == ["default"]
        assert scopes.allowed_collections(session=s, platform="slack", channel="C1",
                                          default_collection="none") == []
        scopes.set_scope(session=s, platform="slack", channel="C1", collections=["eng", "ops"])
        scopes.set_scope(session=s, platform="slack", channel="C1", collections=["eng"])
    with database.session() as s:
        assert scopes.allowed_collections(session=s, platform="slack", channel="C1",
                                          default_collection="default") == ["eng"]
        assert scopes.allowed_collections(session=s, platform="discord", channel="C1",
                                          default_collection="default") == ["default"]
        assert scopes.clear_scope(session=s, platform="slack", channel="C1")


def test_repr_hides_settings(settings, database) -> None:
    core = LoreBot(settings=settings, db=database)
    assert "salt" not in repr(core) and "LoreBot(" in repr(core)
    assert ChannelRef("slack", "C1").platform == "slack"
