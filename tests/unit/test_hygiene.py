"""Edge hygiene: NUL and lone surrogates cleaned, terminal escapes stripped, collection names checked."""

from __future__ import annotations

import pytest

from adapters.discord import translate as discord_translate
from adapters.slack import translate as slack_translate
from bot.hygiene import clean_input, for_terminal, validate_collection_name


def test_clean_input_drops_nul_and_replaces_lone_surrogates() -> None:
    assert clean_input("how\x00 do we deploy \ud800?") == "how do we deploy \ufffd?"
    assert clean_input("emoji 😀 and ü stay") == "emoji 😀 and ü stay"
    assert clean_input("") == "" and clean_input(None) == ""  # type: ignore[arg-type]
    clean_input("x\udfff").encode("utf-8")  # encodable afterwards


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b[31mred\x1b[0m text", "red text"),
    ("\x1b]0;pwned title\x07after", "after"),
    ("\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\", "click"),
    ("invoice\u202etxt.exe", "invoicetxt.exe"),
    ("a\u2066b\u2069c\u061cd", "abcd"),
    ("bell\x07 back\x08space\x7f del \x9b31m c1", "bell backspace del  c1"),
    ("clear\x1b[2J\x1b[Hscreen", "clearscreen"),
    ("keeps\ttabs\nand lines\r\n", "keeps\ttabs\nand lines\n"),
    ("dangling escape \x1b", "dangling escape "),
    ("naïve café 日本語", "naïve café 日本語"),
])
def test_for_terminal_strips_escapes_and_controls(raw: str, shown: str) -> None:
    assert for_terminal(raw) == shown


@pytest.mark.parametrize("name", ["default", "eng", "support-docs", "team_2", "0", "a" * 64])
def test_valid_collection_names(name: str) -> None:
    assert validate_collection_name(name) == name


@pytest.mark.parametrize("name", ["eng'; drop table x;--", "ｅｎｇ", "Eng", "", "-eng", "_x", "a" * 65,
                                  "eng docs", "eng\n", "ěng", "eng/x", "\x1b[31meng"])
def test_invalid_collection_names(name: str) -> None:
    with pytest.raises(ValueError, match="collection name .* is not allowed") as caught:
        validate_collection_name(name)
    assert "\x1b" not in str(caught.value)


def test_slack_translate_cleans_nul_and_surrogates() -> None:
    event = {"type": "app_mention", "user": "U1", "channel": "C1", "ts": "1.1",
             "text": "<@UBOT> how do\x00 we deploy \ud83d? &#0;"}
    msg = slack_translate.message_from_event(event, bot_user_id="UBOT", bot_id="B1")
    assert msg is not None and "\x00" not in msg.text and "\ufffd" in msg.text
    msg.text.encode("utf-8")
    cmd = slack_translate.slash_command({"text": "admin gaps\x00", "user_id": "U1", "channel_id": "C1",
                                         "command": "/lore"})
    assert "\x00" not in cmd.text and cmd.text.endswith("gaps")


def test_discord_translate_cleans_nul_and_surrogates() -> None:
    assert discord_translate.strip_mentions("<@42> deploy\x00 \ud800", 42) == "deploy \ufffd"
    assert discord_translate.command_text("gaps", "\x00--all") == "gaps --all"
    assert discord_translate.slash_question("  how\x00 \udc00 ") == "how \ufffd"
