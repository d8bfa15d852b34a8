"""The Discord adapter end to end through discord.py (dpytest + interaction payloads) and a
real Postgres: answers, threads, votes, buttons and admin commands."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import discord
import discord.ext.test as dpytest
import pytest
from sqlalchemy import select

from adapters.discord import create_bot
from adapters.discord.views import custom_id
from bot.core import LoreBot
from bot.db.models import Feedback, Interaction
from bot.identity import user_hash
from bot.types import Actor, Answer, ChannelRef, Citation, CommandResult
from tests.discord_harness import discord_env  # noqa: F401 - the fixture

pytestmark = [pytest.mark.db, pytest.mark.e2e]


class RecordingAnswerer:
    """Stands in for the answering service: a real Answer and a real interactions row."""

    def __init__(self, database, text: str = "Deploys run from main at 14:00 UTC [1].") -> None:
        self.database = database
        self.text = text
        self.calls: list[dict] = []
        self.fail = False

    def answer(self, question: str, *, channel: ChannelRef, thread: str | None, asker: Actor) -> Answer:
        self.calls.append({"question": question, "channel": channel, "thread": thread, "asker": asker})
        if self.fail:
            raise RuntimeError("model backend down")
        with self.database.session() as s:
            row = Interaction(platform=channel.platform, channel=channel.id, thread=thread,
                              asker_hash="h", question=question, answer=self.text)
            s.add(row)
            s.flush()
            iid = row.id
        cite = Citation(marker=1, title="Deploying the API", uri="https://docs.example.org/deploy",
                        heading="Deploying > Production", snippet="Production deploys...", score=0.8,
                        chunk_id=1, document_id=1, collection="default",
                        ingested_at=datetime(2026, 11, 1, tzinfo=UTC))
        return Answer(text=self.text, citations=[cite], abstained=False, interaction_id=iid,
                      question=question)


@pytest.fixture
def answerer(database) -> RecordingAnswerer:
    return RecordingAnswerer(database)


@pytest.fixture
async def env(discord_env, settings, database, answerer):  # noqa: F811
    core = LoreBot(settings=settings, db=database, answerer=answerer)
    bot = create_bot(settings, core)
    return await discord_env(bot)


def _votes(database) -> list[tuple[int, str, str]]:
    with database.session() as s:
        return [tuple(r) for r in s.execute(select(Feedback.value, Feedback.signal, Feedback.user_hash))]


async def test_mention_is_answered_in_a_thread_on_the_message(env, answerer, database) -> None:
    msg = await dpytest.message(f"{env.mention()} how do we deploy?", channel=env.channel, member=env.member)
    await env.settle()
    assert env.captured.threads, "no thread was created"
    thread_data = env.captured.threads[0]
    assert thread_data["id"] == str(msg.id)
    assert thread_data["name"] == "how do we deploy?"
    sent = env.sent()
    assert len(sent) == 1
    reply = sent[0]
    assert isinstance(reply.channel, discord.Thread) and reply.channel.id == msg.id
    embed = reply.embeds[0]
    assert "14:00 UTC [1]" in embed.description
    assert embed.fields[0].name == "[1] Deploying the API"
    assert "(https://docs.example.org/deploy)" in embed.fields[0].value
    call = answerer.calls[0]
    assert call["question"] == "how do we deploy?"
    assert call["channel"].id == str(env.channel.id) and call["thread"] == str(msg.id)
    with database.session() as s:
        row = s.execute(select(Interaction)).scalar_one()
    assert row.reply_ref == str(reply.id)
