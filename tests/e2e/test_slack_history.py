"""The ``slack`` knowledge source against the Web API stand-in (and once through ingestion)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient

from adapters.slack.history import SlackHistorySource, parse_channels
from knowledge.sources.base import SourceSpec
from knowledge.types import Document, DocumentError
from tests.slack_harness import BOT_TOKEN, SlackStandIn

DAY1 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC).timestamp()
DAY2 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC).timestamp()


def _ts(base: float, offset: int) -> str:
    return f"{base + offset:.6f}"


@pytest.fixture
def stand_in():
    with SlackStandIn() as server:
        root = _ts(DAY1, 60)
        server.history["C0000001"] = [
            {"type": "message", "user": "U1", "text": "The VPN config lives in the infra repo.",
             "ts": _ts(DAY1, 0)},
            {"type": "message", "user": "U2", "text": "How do I rotate the DB password?", "ts": root,
             "thread_ts": root, "reply_count": 2},
            {"type": "message", "subtype": "channel_join", "user": "U3", "text": "joined",
             "ts": _ts(DAY1, 90)},
            {"type": "message", "bot_id": "B9", "subtype": "bot_message", "text": "CI passed",
             "ts": _ts(DAY1, 120)},
            {"type": "message", "user": "U1", "text": "Standup moved to 10:30 &amp; <#C9|general>.",
             "ts": _ts(DAY2, 0)},
        ]
        server.replies[("C0000001", root)] = [
            {"type": "message", "user": "U2", "text": "How do I rotate the DB password?", "ts": root,
             "thread_ts": root},
            {"type": "message", "user": "U4", "text": "Run `make rotate-db` from the ops box.",
             "ts": _ts(DAY1, 70), "thread_ts": root},
            {"type": "message", "user": "U2", "text": "thanks!", "ts": _ts(DAY1, 80), "thread_ts": root},
        ]
        yield server


def _source(stand_in: SlackStandIn, unit_settings, *, location: str = "C0000001", cursor: str | None = None,
            sleeps: list[float] | None = None) -> SlackHistorySource:
    spec = SourceSpec(name="slack-eng", kind="slack", location=location, cursor=cursor)
    client = WebClient(token=BOT_TOKEN, base_url=stand_in.api_url)
    return SlackHistorySource(spec, unit_settings, client=client,
                              sleep=(sleeps.append if sleeps is not None else lambda s: None))


def test_history_becomes_thread_and_day_documents(stand_in, unit_settings):
    source = _source(stand_in, unit_settings)
    docs = list(source.load())
    assert all(isinstance(d, Document) for d in docs)
    by_id = {d.external_id: d for d in docs}
    thread = by_id[f"C0000001/thread/{_ts(DAY1, 60)}"]
    assert "make rotate-db" in thread.text and "How do I rotate" in thread.text
    assert thread.title.startswith("#general: How do I rotate")
    assert thread.uri == f"https://test.slack.com/archives/C0000001/p{_ts(DAY1, 60).replace('.', '')}"
    day1 = by_id["C0000001/day/2026-11-20"]
    assert day1.text == "The VPN config lives in the infra repo."  # no join, no bot, no thread
    day2 = by_id["C0000001/day/2026-11-21"]
    assert day2.text == "Standup moved to 10:30 & #general."
    assert "U1" not in day1.text + day2.text + thread.text  # authors are not indexed
    assert source.complete
    assert json.loads(source.cursor) == {"C0000001": _ts(DAY2, 0)}


def test_incremental_load_starts_at_the_day_before_the_lookback(stand_in, unit_settings):
    first = _source(stand_in, unit_settings)
    list(first.load())
    stand_in.calls.clear()
    second = _source(stand_in, unit_settings, cursor=first.cursor)
    second.lookback = second.lookback * 0  # no lookback: from the start of the cursor's day
    docs = list(second.load())
    oldest = stand_in.of("conversations.history")[0].params["oldest"]
    assert float(oldest) == datetime(2026, 11, 21, tzinfo=UTC).timestamp()
    assert [d.external_id for d in docs] == ["C0000001/day/2026-11-21"]
    assert not second.complete  # an incremental listing must not prune


def test_rate_limit_waits_retry_after_then_continues(stand_in, unit_settings):
    stand_in.failures["conversations.history"] = [
        (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "3"})]
    sleeps: list[float] = []
    docs = list(_source(stand_in, unit_settings, sleeps=sleeps).load())
    assert sleeps == [3.0]
    assert len(stand_in.of("conversations.history")) == 2
    assert len([d for d in docs if isinstance(d, Document)]) == 3


def test_unreadable_channel_is_an_error_not_a_crash(stand_in, unit_settings):
    stand_in.failures["conversations.info"] = [(200, {"ok": False, "error": "not_in_channel"}, {})]
    source = _source(stand_in, unit_settings, location="C0000002, C0000001")
    docs = list(source.load())
    errors = [d for d in docs if isinstance(d, DocumentError)]
    assert len(errors) == 1 and "invite lorebot" in errors[0].reason
    assert len([d for d in docs if isinstance(d, Document)]) == 3
    assert not source.complete


def test_locations_and_the_registered_kind(unit_settings):
    from knowledge.sources.registry import build_source

    assert parse_channels("slack:C0123, G0456") == ["C0123", "G0456"]
    built = build_source(SourceSpec(name="s", kind="slack", location="C0123"), unit_settings)
    assert isinstance(built, SlackHistorySource)


@pytest.mark.parametrize("location", ["", "general", "C123,#random-channel"])
def test_bad_location_is_refused(location):
    with pytest.raises(ValueError, match="channel ids"):
        parse_channels(location)


@pytest.mark.db
@pytest.mark.slow
def test_slack_history_ingests_into_the_store(stand_in, settings, database):
    from bot.db import sources as sources_db
    from bot.ingest import ingest_source

    with database.session() as s:
        sources_db.create_source(session=s, name="slack-eng", kind="slack", location="C0000001",
                                 collection="engineering")
    client = WebClient(token=BOT_TOKEN, base_url=stand_in.api_url)
    result = ingest_source(db=database, settings=settings, name="slack-eng",
                           source_factory=lambda spec, s: SlackHistorySource(spec, s, client=client))
    assert result.status == "ok" and result.added == 3
    with database.session() as s:
        row = sources_db.get_source(session=s, name="slack-eng")
        assert json.loads(row.cursor) == {"C0000001": _ts(DAY2, 0)}
