"""The one text splitter both renderers use (bot/text.py); the per-platform behaviour is
tested in tests/test_slack_render.py and tests/test_discord_render.py through their wrappers."""

from __future__ import annotations

import re

import pytest

from adapters.discord import render as discord_render
from adapters.slack import render as slack_render
from bot.text import split_text


def test_both_renderers_cut_the_same_way() -> None:
    text = " ".join(f"Claim {i} holds [{i % 5 + 1}]." for i in range(600))
    assert discord_render.split_text(text, 2000) == split_text(text, 2000)
    assert slack_render.split_text(text, 2000) == split_text(text, 2000)


def test_unbreakable_tokens_are_never_cut() -> None:
    link = "<https://docs.example.org/" + "a" * 80 + "|the deploy guide>"
    text = ("x" * 1950) + link + (" tail" * 20)
    pieces = split_text(text, 2000, unbreakable=(re.compile(r"<[^<>\n]{1,400}>"),))
    assert all(len(p) <= 2000 for p in pieces)
    assert any(link in p for p in pieces)
    plain = split_text(text, 2000)
    assert not any(link in p for p in plain)  # without the rule the link is cut in two


def test_a_limit_too_small_for_fences_is_refused() -> None:
    with pytest.raises(ValueError, match="code fences"):
        split_text("anything", 10)
