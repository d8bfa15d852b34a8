"""The question limits with their windows in Postgres: two limiters (two replicas) over one
database share one limit, also when they admit questions at the same moment."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from bot.db import ratelimit as rate_db
from bot.db.models import QuestionRateEvent
from bot.ratelimit import RateLimiter

pytestmark = pytest.mark.db


def test_replicas_share_the_per_user_limit(database):
    a = RateLimiter(user_per_minute=2, db=database)
    b = RateLimiter(user_per_minute=2, db=database)
    assert a.shared and a.check(user="slack:U1", channel="slack:C1").allowed
    assert b.check(user="slack:U1", channel="slack:C2").allowed
    refused = a.check(user="slack:U1", channel="slack:C3")
    assert not refused.allowed and 55 < refused.retry_after_s <= 60
    assert "try again in" in refused.message
    assert b.check(user="slack:U2", channel="slack:C1").allowed  # someone else


def test_replicas_share_one_channel_queue(database):
    a = RateLimiter(channel_per_minute=1, db=database)
    b = RateLimiter(channel_per_minute=1, db=database)
    assert a.check(user="u1", channel="slack:C1").wait_s == 0
    queued = b.check(user="u2", channel="slack:C1")
    assert queued.queued and queued.position == 1 and 55 < queued.wait_s <= 60
    assert not a.check(user="u3", channel="slack:C1").allowed  # would wait two minutes


def test_concurrent_checks_never_exceed_the_limit(database):
    replicas = [RateLimiter(user_per_minute=3, db=database) for _ in range(2)]
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def ask(i: int) -> None:
        barrier.wait()
        decision = replicas[i % 2].check(user="slack:UBUSY", channel=f"slack:C{i}")
        with lock:
            results.append(decision.allowed)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True] * 3


def test_old_rows_are_pruned(database):
    RateLimiter(user_per_minute=5, channel_per_minute=5, db=database).check(user="u", channel="c")
    with database.session() as s:
        assert s.execute(select(func.count()).select_from(QuestionRateEvent)).scalar_one() == 2
        assert rate_db.prune(session=s, before=rate_db.now(session=s) + 1) == 2


def _mention(n: int, user: str = "U1", channel: str = "C1"):
    from bot.types import Actor, ChannelRef, IncomingMessage

    return IncomingMessage(platform="slack", channel=ChannelRef(platform="slack", id=channel),
                           user=Actor(platform="slack", user_id=user), text=f"question {n}?",
                           message_id=f"{n}.000", mentioned=True, mention_event=True,
                           event_id=f"Ev{user}{channel}{n}")


def test_the_core_refuses_or_queues_mentions_with_a_message(database, settings):
    """The same limits on every surface: on_message returns what to say, never nothing."""
    from bot.core import LoreBot

    s = settings.model_copy(update={"user_questions_per_minute": 1})
    core = LoreBot(settings=s, db=database)
    first = core.on_message(_mention(1))
    assert first is not None and first.kind == "answer" and first.wait_s == 0
    second = core.on_message(_mention(2))
    assert second is not None and second.kind == "limited"
    assert second.message and "try again" in second.message.lower()

    s = settings.model_copy(update={"channel_questions_per_minute": 1})
    core = LoreBot(settings=s, db=database)
    assert core.on_message(_mention(1, user="U2", channel="C2")).wait_s == 0
    queued = core.on_message(_mention(2, user="U3", channel="C2"))
    assert queued is not None and queued.kind == "answer" and queued.wait_s > 0
    assert queued.message and "queue" in queued.message.lower()
