"""The Home tab view: neutral data in, a view slack_sdk's own classes accept out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from adapters.slack.home_view import HOME_GAPS, HOME_REINDEX, MAX_BLOCKS, home_view
from bot.home import AdminHome, CollectionInfo, GapInfo, HomeData, SourceInfo

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _data(*, admin: bool, sources: int = 2, failing: int = 1) -> HomeData:
    srcs = [SourceInfo(name=f"docs-{i}", kind="folder", collection="default", status="ok",
                       last_synced=NOW - timedelta(days=3)) for i in range(sources)]
    broken = [SourceInfo(name=f"wiki {i}", kind="web", collection="eng", status="failed",
                         last_synced=None, last_error="https://wiki: HTTP 500" * 50) for i in range(failing)]
    admin_part = AdminHome(
        failing=broken, gaps=[GapInfo(question="How do I rotate the VPN key?", abstained=True,
                                      downvotes=0, asked_at=NOW)],
        gap_count=7, questions=40, abstained=7, up=9, down=3, since=NOW - timedelta(days=7),
    ) if admin else None
    return HomeData(collections=[CollectionInfo("default", "Team docs", sources),
                                 CollectionInfo("eng", "", failing)],
                    sources=srcs + broken, default_collection="default", admin=admin_part,
                    generated_at=NOW)


def _parse(view: dict) -> list[Block]:
    # Round-trip through slack_sdk: a wrong type or a missing field does not survive this.
    parsed = View(**view)
    assert parsed.type == "home"
    blocks = [Block.parse(b) for b in view["blocks"]]
    assert all(b is not None for b in blocks)
    assert [b.to_dict() for b in blocks] == view["blocks"]
    return blocks


def _actions(view: dict) -> list[dict]:
    found = []
    for block in view["blocks"]:
        if block.get("accessory", {}).get("type") == "button":
            found.append(block["accessory"])
        found += [e for e in block.get("elements", []) if e.get("type") == "button"]
    return found


def test_everyone_sees_how_to_ask_and_the_sources_with_freshness() -> None:
    view = home_view(_data(admin=False))
    _parse(view)
    text = json.dumps(view)
    assert "Mention me" in text and "/lore your question" in text
    assert "docs-0 (folder), synced 3 days ago" in text and "Team docs" in text
    assert "wiki 0 (web), never synced" in text
    # No admin content, no buttons, for a non-admin.
    assert "For admins" not in text and "satisfaction" not in text and "VPN" not in text
    assert _actions(view) == []


def test_admins_also_see_failing_sources_gaps_and_satisfaction_with_buttons() -> None:
    view = home_view(_data(admin=True))
    _parse(view)
    text = json.dumps(view, ensure_ascii=False)
    assert "40 questions, 7 not answered, satisfaction 75% 👍 of 12 votes" in text
    assert "*wiki 0*: failed" in text and "How do I rotate the VPN key?" in text
    assert "(7 questions)" in text
    buttons = {(b["action_id"], b["value"]) for b in _actions(view)}
    assert buttons == {(HOME_REINDEX, "wiki 0"), (HOME_GAPS, "gaps --days 7")}


def test_a_large_install_stays_within_slacks_limits() -> None:
    view = home_view(_data(admin=True, sources=300, failing=40))
    _parse(view)
    assert len(view["blocks"]) <= MAX_BLOCKS
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in view["blocks"])
    text = json.dumps(view)
    assert "and 260 more" in text  # the default collection lists its first 40
    assert "and 30 more" in text  # failing sources beyond the ten shown


def test_nothing_indexed_yet_says_how_to_start() -> None:
    view = home_view(HomeData(collections=[], sources=[], default_collection="default", generated_at=NOW))
    _parse(view)
    assert "sources add" in json.dumps(view)
