"""The shared question limiter: sliding windows per person and per channel, with a clock."""

from __future__ import annotations

import pytest

from bot.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_off_by_default_admits_everything() -> None:
    limiter = RateLimiter()
    assert not limiter.enabled
    for _ in range(500):
        decision = limiter.check(user="slack:U1", channel="slack:C1")
        assert decision.allowed and not decision.queued and decision.message is None


def test_user_limit_refuses_with_retry_time_then_window_slides() -> None:
    clock = Clock()
    limiter = RateLimiter(user_per_minute=3, clock=clock)
    for i in range(3):
        clock.now += 5  # asked at 1005, 1010, 1015
        assert limiter.check(user="slack:U1", channel="slack:C1").allowed
    clock.now = 1020
    refused = limiter.check(user="slack:U1", channel="slack:C1")
    assert not refused.allowed
    assert refused.retry_after_s == pytest.approx(45)  # the 1005 question leaves at 1065
    assert "try again in 45 seconds" in refused.message
    # Someone else is not affected.
    assert limiter.check(user="slack:U2", channel="slack:C1").allowed
    # A refused question does not count: at 1065 one slot is free again, exactly one.
    clock.now = 1065.5
    assert limiter.check(user="slack:U1", channel="slack:C1").allowed
    assert not limiter.check(user="slack:U1", channel="slack:C1").allowed


def test_channel_limit_queues_with_positions_and_refuses_past_a_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(channel_per_minute=2, clock=clock)
    assert limiter.check(user="a", channel="C").wait_s == 0
    clock.now += 10
    assert limiter.check(user="b", channel="C").wait_s == 0  # starts at 1000, 1010
    clock.now += 10  # 1020
    third = limiter.check(user="c", channel="C")
    assert third.queued and third.position == 1 and third.wait_s == pytest.approx(40)
    assert "position 1" in third.message and "40 seconds" in third.message
    fourth = limiter.check(user="d", channel="C")
    assert fourth.queued and fourth.position == 2 and fourth.wait_s == pytest.approx(50)
    # Never more than 2 starts in any 60 s window: 1000, 1010, 1060, 1070, next at 1120.
    fifth = limiter.check(user="e", channel="C")
    assert not fifth.allowed and fifth.retry_after_s == pytest.approx(100)
    assert "try again in a minute" in fifth.message
    # Another channel has its own window.
    assert limiter.check(user="f", channel="C2").wait_s == 0
    # Once the queue has drained, the channel answers at once again.
    clock.now = 1200
    assert limiter.check(user="g", channel="C").wait_s == 0


def test_both_limits_a_queued_question_counts_for_its_asker() -> None:
    clock = Clock()
    limiter = RateLimiter(user_per_minute=2, channel_per_minute=1, clock=clock)
    assert limiter.check(user="u", channel="C").wait_s == 0
    assert limiter.check(user="u", channel="C").queued
    refused = limiter.check(user="u", channel="D")  # the user's limit, even in a quiet channel
    assert not refused.allowed and "questions in the last minute" in refused.message
    assert limiter.check(user="v", channel="D").allowed
    busy = limiter.check(user="v", channel="C")  # C's queue would start it 120 s from now
    assert not busy.allowed and "try again in a minute" in busy.message


def test_negative_limits_are_refused_and_stale_keys_are_swept() -> None:
    with pytest.raises(ValueError):
        RateLimiter(user_per_minute=-1)
    clock = Clock()
    limiter = RateLimiter(user_per_minute=5, channel_per_minute=5, clock=clock)
    for i in range(999):
        limiter.check(user=f"u{i}", channel=f"c{i}")
    clock.now += 120
    limiter.check(user="last", channel="last")  # the 1000th check sweeps the idle keys
    assert set(limiter._users) == {"last"} and set(limiter._channels) == {"last"}
