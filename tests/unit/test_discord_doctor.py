"""``lorebot doctor`` on Discord: which privileged intents the settings need and whether the
bot's permission bits allow what is enabled (pure functions; Discord's answer stood in)."""

from __future__ import annotations

import discord
import pytest

from adapters.discord import doctor
from bot.settings import load_settings


@pytest.fixture
def settings(tmp_path):
    return load_settings(_env_file=None, lorebot_data_dir=tmp_path / "data")


def _bits(**flags: bool) -> int:
    return discord.Permissions(**flags).value


def test_message_content_is_needed_only_for_mentions_and_threads(settings) -> None:
    [(intent, why)] = doctor.privileged_intents(settings)
    assert intent == "message_content" and "mentions" in why
    off = settings.model_copy(update={"discord_answer_mentions": False, "discord_answer_dms": True})
    assert doctor.privileged_intents(off) == []  # DMs and slash commands need no privileged intent


def test_base_permissions_follow_discords_rules() -> None:
    everyone = _bits(view_channel=True, send_messages=True)
    role = _bits(embed_links=True)
    assert discord.Permissions(doctor.base_permissions(everyone=everyone, roles=[role])) == \
        discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
    admin = _bits(administrator=True)
    assert doctor.base_permissions(everyone=0, roles=[admin]) == discord.Permissions.all().value
    assert doctor.base_permissions(everyone=0, roles=[], is_owner=True) == discord.Permissions.all().value


def test_missing_permissions_depend_on_what_is_enabled(settings) -> None:
    granted = _bits(view_channel=True, send_messages=True, read_message_history=True)
    lacking = {n.permission for n in doctor.missing(granted, doctor.needed_permissions(settings))}
    assert lacking == {"embed_links", "create_public_threads", "send_messages_in_threads",
                       "manage_threads"}
    quiet = settings.model_copy(update={"discord_answer_mentions": False,
                                        "discord_forum_answered_tag": ""})
    assert [n.permission for n in doctor.missing(granted, doctor.needed_permissions(quiet))] == [
        "embed_links"]
    everything = discord.Permissions.all().value
    assert doctor.missing(everything, doctor.needed_permissions(settings)) == []


def test_report_names_servers_lacking_permissions(settings, monkeypatch) -> None:
    s = settings.model_copy(update={"discord_token": "x" * 60, "discord_guild_ids": [1, 3]})

    async def answer(token, guild_ids, **kw):
        assert guild_ids == [1, 3]
        return doctor.LiveState(guilds={1: ("Docs", discord.Permissions.all().value),
                                        3: ("Ops", _bits(view_channel=True, send_messages=True))},
                                app_flags=1 << 19)

    monkeypatch.setattr(doctor, "live_permissions", answer)
    monkeypatch.setattr(type(s), "has", lambda self, name: True)
    monkeypatch.setattr(type(s), "secret", lambda self, name: "token")
    lines, problems = doctor.report(s)
    assert any("Docs (1) permissions ok" in line for line in lines)
    [ops] = [line for line in lines if "(3)" in line]
    assert "embed_links" in ops and "create_public_threads" in ops
    assert any("message_content is enabled" in line for line in lines)
    assert not any("Developer Portal" in p for p in problems)  # it is on
    [fix] = [p for p in problems if "Ops" in p]
    assert "manage_threads" not in fix  # optional (forum tags) is reported, not demanded


def test_report_offline_says_it_did_not_check(settings, monkeypatch) -> None:
    s = settings.model_copy(update={"discord_token": "x" * 60})

    async def offline(token, guild_ids, **kw):
        raise OSError("network unreachable")

    monkeypatch.setattr(doctor, "live_permissions", offline)
    monkeypatch.setattr(type(s), "has", lambda self, name: True)
    monkeypatch.setattr(type(s), "secret", lambda self, name: "token")
    lines, problems = doctor.report(s)
    assert any("not checked" in line and "OSError" in line for line in lines)
    assert any("Developer Portal" in p for p in problems)  # cannot tell: say what to check
    assert doctor.report(s, live=False)[0] == [lines[0]]


def test_report_says_when_message_content_is_off(settings, monkeypatch) -> None:
    s = settings.model_copy(update={"discord_token": "x" * 60})

    async def answer(token, guild_ids, **kw):
        return doctor.LiveState(guilds={}, app_flags=0)

    monkeypatch.setattr(doctor, "live_permissions", answer)
    monkeypatch.setattr(type(s), "has", lambda self, name: True)
    monkeypatch.setattr(type(s), "secret", lambda self, name: "token")
    _, problems = doctor.report(s)
    assert any(p.startswith("message content is OFF") for p in problems)
