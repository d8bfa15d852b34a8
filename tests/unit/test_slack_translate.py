"""Pure tests of Slack payload -> neutral type translation."""

from __future__ import annotations

import uuid

from adapters.slack import slack_mode, translate
from bot.settings import load_settings

BOT = "UBOT0001"


def test_mention_is_cleaned_and_marked() -> None:
    event = {"type": "app_mention", "user": "U1", "channel": "C1", "ts": "1.2",
             "text": f"<@{BOT}> how do I use <#C9|deploys> with <@U7|ann> &amp; <https://x.org/a|the docs>?"}
    msg = translate.message_from_event(event, bot_user_id=BOT, event_id="Ev1")
    assert msg is not None
    assert msg.text == "how do I use #deploys with @ann & the docs (https://x.org/a)?"
    assert msg.mentioned and not msg.from_bot and msg.event_id == "Ev1"
    assert msg.channel.id == "C1" and not msg.channel.is_dm
    assert msg.user.key == "slack:U1" and msg.message_id == "1.2" and msg.thread_id is None


def test_dm_and_thread_are_recognised() -> None:
    event = {"type": "message", "channel_type": "im", "user": "U1", "channel": "D1", "ts": "5.6",
             "thread_ts": "5.0", "text": "hello"}
    msg = translate.message_from_event(event, bot_user_id=BOT)
    assert msg is not None and msg.channel.is_dm and msg.thread_id == "5.0" and not msg.mentioned


def test_edits_and_joins_are_not_questions() -> None:
    for subtype in ("message_changed", "message_deleted", "channel_join"):
        event = {"type": "message", "subtype": subtype, "channel": "C1", "ts": "1", "user": "U1"}
        assert translate.message_from_event(event, bot_user_id=BOT) is None


def test_bot_messages_are_flagged_and_own_messages_recognised() -> None:
    other = {"type": "message", "subtype": "bot_message", "bot_id": "B9", "channel": "C1", "ts": "1",
             "text": "hi"}
    msg = translate.message_from_event(other, bot_user_id=BOT, bot_id="BBOT")
    assert msg is not None and msg.from_bot
    assert not translate.is_own(other, bot_user_id=BOT, bot_id="BBOT")
    own = {"type": "message", "user": BOT, "bot_id": "BBOT", "channel": "C1", "ts": "2", "text": "x"}
    assert translate.is_own(own, bot_user_id=BOT, bot_id="BBOT")


def test_limit_question_cuts_at_a_word() -> None:
    text = "word " * 2000
    cut, truncated = translate.limit_question(text)
    assert truncated and len(cut) <= translate.MAX_QUESTION_CHARS and cut.endswith("word")
    assert translate.limit_question("short") == ("short", False)


def test_reactions_and_votes() -> None:
    event = {"type": "reaction_removed", "user": "U2", "reaction": "+1::skin-tone-4",
             "item": {"type": "message", "channel": "C1", "ts": "9.9"}}
    reaction = translate.reaction_from_event(event)
    assert reaction is not None and reaction.emoji == "+1" and not reaction.added
    assert reaction.message_id == "9.9" and reaction.user.user_id == "U2"
    assert translate.reaction_from_event({"type": "reaction_added", "user": "U2", "reaction": "x",
                                          "item": {"type": "file", "file": "F1"}}) is None
    # Which emoji are votes is the core's rule: tests/unit/test_inbound.py.


def test_slash_command_kinds() -> None:
    base = {"user_id": "U1", "channel_id": "C1", "channel_name": "general"}
    assert translate.slash_command({**base, "text": ""}).kind == "help"
    admin = translate.slash_command({**base, "text": "admin  sources list"})
    assert admin.kind == "admin" and admin.text == "sources list"
    ask = translate.slash_command({**base, "text": "how do I deploy?"})
    assert ask.kind == "ask" and ask.text == "how do I deploy?" and not ask.channel.is_dm
    dm = translate.slash_command({**base, "channel_id": "D1", "channel_name": "directmessage", "text": "q"})
    assert dm.channel.is_dm


def test_button_press_parses_ids() -> None:
    iid = uuid.uuid4()
    body = {"user": {"id": "U3"}, "channel": {"id": "C1"}, "trigger_id": "t",
            "container": {"message_ts": "7.7"}}
    press = translate.button_press(body, {"action_id": "lorebot_vote_up", "value": str(iid)})
    assert press.interaction_id == iid and press.message_ts == "7.7" and press.channel.id == "C1"
    bad = translate.button_press(body, {"action_id": "lorebot_vote_up", "value": "not-a-uuid"})
    assert bad.interaction_id is None


def test_slack_mode_from_settings(tmp_path) -> None:
    none = load_settings(_env_file=None, lorebot_data_dir=tmp_path)
    assert slack_mode(none) is None
    http = load_settings(_env_file=None, lorebot_data_dir=tmp_path, slack_bot_token="xoxb-1")
    assert slack_mode(http) == "http"
    sock = load_settings(_env_file=None, lorebot_data_dir=tmp_path, slack_bot_token="xoxb-1",
                         slack_app_token="xapp-1")
    assert slack_mode(sock) == "socket"
    # OAuth installs need no bot token, and run over HTTP only.
    oauth = load_settings(_env_file=None, lorebot_data_dir=tmp_path, slack_client_id="1.2",
                          slack_client_secret="s", slack_state_secret="k")
    assert slack_mode(oauth) == "http"


def test_untidy_cleaning_keeps_code_indentation() -> None:
    raw = "```\ndef f():\n    return 1\n```\n\n\n\nsee &lt;this&gt;"
    assert translate.clean_text(raw, tidy=False) == "```\ndef f():\n    return 1\n```\n\nsee <this>"
    assert "    return" not in translate.clean_text(raw)
