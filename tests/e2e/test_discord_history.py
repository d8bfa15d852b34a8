"""The ``discord`` knowledge source against a fake Discord REST API (httpx MockTransport)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from adapters.discord.history import (
    DiscordHistorySource,
    parse_channels,
    snowflake_at,
    snowflake_time,
)
from knowledge.sources.base import SourceSpec
from knowledge.types import Document, DocumentError

CHANNEL = "111111111111111111"
SECRET_CHANNEL = "222222222222222222"
GUILD = "999999999999999999"
DAY1 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
DAY5 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _id(moment: datetime, offset_s: int) -> str:
    return str(snowflake_at(moment) + (offset_s * 1000 << 22))


class FakeDiscord:
    """Serves /channels/{id} and /channels/{id}/messages like Discord (newest first, after=)."""

    def __init__(self) -> None:
        person, bot = {"id": "1", "username": "ana"}, {"id": "2", "username": "ci", "bot": True}
        self.messages = {CHANNEL: [
            {"id": _id(DAY1, 0), "type": 0, "author": person, "content": "The VPN config lives in infra."},
            {"id": _id(DAY1, 30), "type": 7, "author": person, "content": ""},  # a join
            {"id": _id(DAY1, 60), "type": 0, "author": bot, "content": "CI passed"},
            {"id": _id(DAY1, 90), "type": 19, "author": person, "content": "Rotate DB passwords monthly."},
            *[{"id": _id(DAY2, i), "type": 0, "author": person, "content": f"note {i}"}
              for i in range(150)],
        ]}
        self.requests: list[httpx.Request] = []
        self.rate_limit_once = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.rate_limit_once:
            self.rate_limit_once = False
            return httpx.Response(429, json={"retry_after": 0.25, "global": False})
        parts = request.url.path.split("/")
        channel = parts[parts.index("channels") + 1]
        if channel not in self.messages:
            return httpx.Response(403, json={"message": "Missing Access", "code": 50001})
        if request.url.path.endswith("/messages"):
            after = int(request.url.params.get("after", 0))
            limit = int(request.url.params.get("limit", 50))
            newer = [m for m in self.messages[channel] if int(m["id"]) > after]
            page = sorted(newer, key=lambda m: int(m["id"]))[:limit]
            return httpx.Response(200, json=list(reversed(page)))
        return httpx.Response(200, json={"id": channel, "name": "eng-help", "guild_id": GUILD, "type": 0})


@pytest.fixture
def fake():
    return FakeDiscord()


def _source(fake: FakeDiscord, settings, location: str = CHANNEL, cursor: str | None = None,
            sleeps: list[float] | None = None) -> DiscordHistorySource:
    client = httpx.Client(base_url="https://discord.test/api/v10",
                          transport=httpx.MockTransport(fake.handler))
    spec = SourceSpec(name="disc", kind="discord", location=location, cursor=cursor)
    return DiscordHistorySource(spec, settings, client=client,
                                sleep=(sleeps.append if sleeps is not None else lambda s: None))


def test_history_becomes_day_documents_without_bots_or_authors(fake, unit_settings) -> None:
    source = _source(fake, unit_settings)
    docs = list(source.load())
    assert [d.external_id for d in docs] == [f"{CHANNEL}/2026-11-20", f"{CHANNEL}/2026-11-21"]
    day1, day2 = docs
    assert day1.text == "The VPN config lives in infra.\n\nRotate DB passwords monthly."
    assert "CI passed" not in day1.text and "ana" not in day1.text
    assert day1.title == "#eng-help on 2026-11-20"
    assert day1.uri == f"https://discord.com/channels/{GUILD}/{CHANNEL}/{_id(DAY1, 0)}"
    assert day2.metadata["messages"] == 150  # read across two pages of 100
    assert source.complete
    assert json.loads(source.cursor) == {CHANNEL: _id(DAY2, 149)}


def test_incremental_load_starts_at_the_day_of_the_cursor_minus_lookback(fake, unit_settings) -> None:
    first = _source(fake, unit_settings)
    list(first.load())
    fake.messages[CHANNEL].append({"id": _id(DAY5, 0), "type": 0, "author": {"id": "1"},
                                   "content": "New on-call rota."})
    fake.requests.clear()
    again = _source(fake, unit_settings, cursor=first.cursor)
    docs = list(again.load())
    after = int(fake.requests[1].url.params["after"])
    assert snowflake_time(after + 1) == datetime(2026, 11, 19, tzinfo=UTC)  # DAY2 minus 2 days
    assert [d.external_id for d in docs] == [f"{CHANNEL}/2026-11-20", f"{CHANNEL}/2026-11-21",
                                            f"{CHANNEL}/2026-11-24"]
    assert not again.complete  # only part of the history was listed: no pruning
    assert json.loads(again.cursor) == {CHANNEL: _id(DAY5, 0)}


def test_rate_limit_waits_then_continues(fake, unit_settings) -> None:
    sleeps: list[float] = []
    fake.rate_limit_once = True
    docs = list(_source(fake, unit_settings, sleeps=sleeps).load())
    assert sleeps == [0.25] and len(docs) == 2


def test_unreadable_channel_is_an_error_and_the_others_go_on(fake, unit_settings) -> None:
    source = _source(fake, unit_settings, location=f"discord:{SECRET_CHANNEL},{CHANNEL}")
    docs = list(source.load())
    [error] = [d for d in docs if isinstance(d, DocumentError)]
    assert error.external_id == SECRET_CHANNEL and "Read Message History" in error.reason
    assert len([d for d in docs if isinstance(d, Document)]) == 2
    assert not source.complete


@pytest.mark.parametrize("location", ["", "general", "discord:123", "111111111111111111,#random"])
def test_bad_location_is_refused(location: str) -> None:
    with pytest.raises(ValueError, match="channel ids"):
        parse_channels(location)


def test_snowflakes_round_trip() -> None:
    assert snowflake_time(snowflake_at(DAY1)) == DAY1
    assert parse_channels("discord:111111111111111111, 222222222222222222") == [CHANNEL, SECRET_CHANNEL]


@pytest.mark.db
@pytest.mark.slow
def test_discord_history_ingests_into_the_store(fake, settings, database) -> None:
    from bot.db import sources as sources_db
    from bot.ingest import ingest_source

    with database.session() as s:
        sources_db.create_source(session=s, name="discord-eng", kind="discord", location=CHANNEL,
                                 collection="engineering")
    client = httpx.Client(base_url="https://discord.test/api/v10",
                          transport=httpx.MockTransport(fake.handler))
    result = ingest_source(db=database, settings=settings, name="discord-eng",
                           source_factory=lambda spec, s: DiscordHistorySource(spec, s, client=client))
    assert result.status == "ok" and result.added == 2
    with database.session() as s:
        row = sources_db.get_source(session=s, name="discord-eng")
        assert json.loads(row.cursor) == {CHANNEL: _id(DAY2, 149)}


def test_the_discord_kind_is_registered(unit_settings) -> None:
    from knowledge.sources.registry import build_source, guess_kind

    assert guess_kind(f"discord:{CHANNEL}") == "discord"
    built = build_source(SourceSpec(name="d", kind="discord", location=f"discord:{CHANNEL}"), unit_settings)
    assert isinstance(built, DiscordHistorySource) and built.channels == [CHANNEL]
