"""Pure rendering and translation for Discord: limits, safe splitting, votes, mentions."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import discord
import pytest
from pydantic import SecretStr

from adapters.discord import render, translate
from adapters.discord.views import custom_id, parse_custom_id
from bot.types import Answer, Citation

CITE = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")


def _citation(marker: int, **kw) -> Citation:
    return Citation(marker=marker, title=kw.get("title", f"Doc {marker}"),
                    uri=kw.get("uri", f"https://docs.example.org/{marker}"),
                    heading=kw.get("heading", "Guide > Section"), snippet="...", score=0.5,
                    chunk_id=marker, document_id=marker, collection="default",
                    ingested_at=kw.get("ingested_at"))


def _answer(text: str, citations: list[Citation] | None = None, **kw) -> Answer:
    return Answer(text=text, citations=citations if citations is not None else [_citation(1)],
                  abstained=kw.get("abstained", False), interaction_id=uuid.uuid4(),
                  question=kw.get("question", "how?"), notice=kw.get("notice"))


def _balanced(piece: str) -> bool:
    return piece.count("```") % 2 == 0


@pytest.mark.parametrize("limit", [100, 2000, 4096])
def test_split_keeps_words_and_citations_whole(limit: int) -> None:
    text = " ".join(f"Claim number {i} holds [{i % 7 + 1}] and [2, 3]." for i in range(400))
    pieces = render.split_text(text, limit)
    assert all(len(p) <= limit for p in pieces)
    assert " ".join(pieces).split() == text.split()
    assert sum(len(CITE.findall(p)) for p in pieces) == len(CITE.findall(text))
    # a citation stays with the claim before it: no piece starts with one
    assert not any(p.lstrip().startswith("[") for p in pieces)


def test_a_citation_after_a_full_stop_stays_with_its_sentence() -> None:
    text = " ".join(f"Sentence {i} ends here. [{i}]" for i in range(300))
    pieces = render.split_text(text, 500)
    assert all(len(p) <= 500 for p in pieces)
    assert not any(p.startswith("[") for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_split_closes_and_reopens_a_long_code_block() -> None:
    code = "\n".join(f"    step_{i}()  # keep indentation" for i in range(200))
    text = f"Run this [1]:\n\n```python\n{code}\n```\n\nThen check the logs [2]."
    pieces = render.split_text(text, 2000)
    assert len(pieces) > 2
    assert all(len(p) <= 2000 and _balanced(p) for p in pieces)
    assert all(p.startswith("```python\n") for p in pieces[1:-1])
    rejoined = "\n".join(p.removeprefix("```python\n").removesuffix("\n```") for p in pieces)
    assert "    step_117()  # keep indentation" in rejoined  # indentation survives the cuts
    body_lines = [ln for p in pieces for ln in p.splitlines() if ln.startswith("    step_")]
    assert len(body_lines) == 200


def test_split_moves_a_short_code_block_whole_to_the_next_piece() -> None:
    prose = "Some words here. " * 80
    block = "```sh\nmake rollback ENV=prod\n```"
    pieces = render.split_text(prose + block, 1400 + 60)
    assert any(block in p for p in pieces)


def test_unbreakable_text_is_still_cut_within_the_limit() -> None:
    pieces = render.split_text("x" * 5000, 2000)
    assert [len(p) for p in pieces] == [1996, 1996, 1008]


def test_source_fields_link_title_heading_and_freshness() -> None:
    when = datetime(2026, 11, 1, 12, tzinfo=UTC)
    field = render.source_field(_citation(2, title="Deploy [prod] guide", ingested_at=when))
    assert field["name"] == "[2] Deploy [prod] guide"
    assert "[Deploy (prod) guide](https://docs.example.org/2)" in field["value"]
    assert "§ Guide > Section" in field["value"]
    assert f"<t:{int(when.timestamp())}:R>" in field["value"]
    local = render.source_field(_citation(3, uri="docs/deploy.md", heading=""))
    assert local["value"] == "`docs/deploy.md`"


def test_long_titles_and_many_sources_fit_embed_limits() -> None:
    cites = [_citation(i, title="T" * 400, heading="H" * 900, uri="https://x.org/" + "p" * 600)
             for i in range(1, 41)]
    messages = render.render_answer(_answer("Short answer [1].", cites))
    [msg] = messages
    embed = msg.embed
    assert len(embed["fields"]) <= render.FIELDS_LIMIT
    assert all(len(f["name"]) <= 256 and len(f["value"]) <= 1024 for f in embed["fields"])
    assert render.embed_size(embed) <= render.EMBED_TOTAL_LIMIT
    assert embed["fields"][-1]["name"] == "…"
    assert embed["description"] == "Short answer [1]."
    assert discord.Embed.from_dict(embed).to_dict()["fields"] == embed["fields"]


def test_nine_thousand_characters_become_three_messages_sources_on_the_last() -> None:
    text = ("Deploys switch traffic only after health checks pass [1]. " * 200)[:9000]
    messages = render.render_answer(_answer(text, [_citation(1)], notice="style model disabled"))
    assert len(messages) == 3
    assert [m.with_feedback for m in messages] == [False, False, True]
    assert messages[0].content == "style model disabled" and messages[1].content is None
    assert all(len(m.embed["description"]) <= 4096 for m in messages)
    assert all(render.embed_size(m.embed) <= 6000 for m in messages)
    assert "fields" in messages[-1].embed and "fields" not in messages[0].embed
    assert messages[0].embed["title"] == "how?"


def test_abstained_answer_is_grey_and_plain_text_is_chunked() -> None:
    [msg] = render.render_answer(_answer("I could not find this in the docs.", [], abstained=True))
    assert msg.embed["color"] == render.COLOR_ABSTAINED and "fields" not in msg.embed
    chunks = render.render_text("line\n" * 1000)
    assert len(chunks) == 3 and all(len(c) <= 2000 for c in chunks)


def test_mentions_commands_and_thread_names() -> None:
    assert translate.strip_mentions("<@123> how  do I\n deploy? <@!123>", 123) == "how do I deploy?"
    assert translate.strip_mentions("<@999> hi", 123) == "<@999> hi"
    assert translate.command_text("sources", "  add docs ./docs ") == "sources add docs ./docs"
    assert translate.command_text("status", None) == "status"
    assert translate.command_text("reindex", "--all") == "sources reindex --all"
    assert translate.thread_name("x" * 300).endswith("…") and len(translate.thread_name("x" * 300)) == 90
    assert translate.thread_name("   ") == "lorebot answer"
    assert translate.is_platform_admin(discord.Permissions(manage_guild=True))
    assert translate.is_platform_admin(discord.Permissions(administrator=True))
    assert not translate.is_platform_admin(discord.Permissions(send_messages=True))
    assert not translate.is_platform_admin(None)


def test_vote_custom_ids_round_trip_and_fit_discord() -> None:
    iid = uuid.uuid4()
    for value in (1, -1):
        cid = custom_id(value, iid)
        assert len(cid) <= 100  # Discord's custom_id limit
        assert parse_custom_id(cid) == (value, iid)
    assert parse_custom_id("lore:vote:+2:" + str(iid)) is None
    assert parse_custom_id("something else") is None


def test_intents_ask_only_for_what_is_used(unit_settings) -> None:
    from discord.ext import commands

    from adapters.discord import create_bot

    bot = create_bot(unit_settings, core=object())
    intents = bot.intents
    assert intents.guilds and intents.guild_reactions and intents.message_content
    assert not intents.members and not intents.presences and not intents.voice_states
    quiet = create_bot(unit_settings.model_copy(update={"discord_answer_mentions": False,
                                                        "discord_answer_dms": False}), core=object())
    assert not quiet.intents.message_content and not quiet.intents.guild_messages
    assert not quiet.intents.dm_messages
    assert not isinstance(bot, commands.AutoShardedBot)
    sharded = create_bot(unit_settings.model_copy(update={"discord_sharded": True}), core=object())
    assert isinstance(sharded, commands.AutoShardedBot)


def test_placeholder_token_is_refused_before_connecting(unit_settings) -> None:
    from adapters.discord.run import run_discord
    from bot.settings import ConfigError

    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        run_discord(unit_settings, core=None)
    with pytest.raises(ConfigError, match="placeholder"):
        run_discord(unit_settings.model_copy(update={"discord_token": SecretStr("REPLACE-ME")}), core=None)
