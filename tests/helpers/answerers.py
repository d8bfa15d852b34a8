"""Stand-ins for the answering service that the Discord tests share (e2e on Postgres, and unit
on FakeCore with ``database=None``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from bot.db.models import Interaction
from bot.types import Actor, Answer, ChannelRef, Citation


class RecordingAnswerer:
    """Stands in for the answering service: a real Answer and a real interactions row."""

    def __init__(self, database, text: str = "Deploys run from main at 14:00 UTC [1].") -> None:
        self.database = database
        self.text = text
        self.calls: list[dict] = []
        self.fail = False

    def answer(self, question: str, *, channel: ChannelRef, thread: str | None, asker: Actor,
               on_text=None) -> Answer:
        # Like the extractive answerer, it writes nothing to a streaming sink.
        self.calls.append({"question": question, "channel": channel, "thread": thread, "asker": asker})
        if self.fail:
            raise RuntimeError("model backend down")
        if self.database is None:  # on FakeCore, which keeps its own record
            iid = uuid.uuid4()
        else:
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
