"""Platform-neutral types that adapters translate to and from.

An adapter turns a Slack or Discord payload into an :class:`IncomingMessage` or a
:class:`Reaction`, calls the core, and renders the :class:`Answer` it gets back. Nothing in
here knows about any platform SDK.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal


@dataclass(frozen=True)
class ChannelRef:
    """Where a question was asked: ``platform`` is ``slack``, ``discord`` or ``cli``."""

    platform: str
    id: str
    is_dm: bool = False


@dataclass(frozen=True)
class Actor:
    """Who asked or ran a command. ``platform_admin`` is the platform's own say-so
    (Slack workspace admin/owner, Discord Manage Server), trusted only if settings allow."""

    platform: str
    user_id: str
    platform_admin: bool = False

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class Turn:
    """An earlier message of the same thread, for follow-up questions."""

    author_is_bot: bool
    text: str


@dataclass(frozen=True)
class IncomingMessage:
    """Someone said something where lorebot can see it; :meth:`bot.core.LoreBot.on_message`
    decides whether it is for lorebot.

    ``mention_event`` is True when the platform delivered this as its dedicated "you were
    mentioned" event (Slack ``app_mention``), which Slack sends *as well as* the plain message:
    the core answers exactly one of the two. ``event_id`` is the delivery id used to answer
    once across retries and replicas.
    """

    platform: str
    channel: ChannelRef
    user: Actor
    text: str
    message_id: str
    thread_id: str | None = None
    mentioned: bool = False
    from_bot: bool = False
    event_id: str | None = None
    mention_event: bool = False


@dataclass(frozen=True)
class Reply:
    """What the core decided to send for an :class:`IncomingMessage`.

    ``kind == "answer"``: answer ``question`` (the adapter shows its progress cue, then calls
    ``ask`` with ``thread`` and renders the :class:`Answer`); ``kind == "usage"``: the message
    addressed lorebot but asked nothing, so send the platform's how-to-ask line;
    ``kind == "limited"``: the rate limits refuse it for now, send ``message`` (never drop it).
    An answer that was queued by the channel limit has ``wait_s`` > 0 and a ``message`` ("you're
    in a queue, position 2"): send the message, wait, then answer.
    ``thread`` is the thread the reply belongs to (None: the top level of the channel or DM);
    ``new_thread`` means that thread starts at the question itself (Slack threads on the
    message's ts, Discord opens a thread whose id is the message id).
    """

    kind: Literal["answer", "usage", "limited"]
    question: str = ""
    thread: str | None = None
    new_thread: bool = False
    message: str | None = None
    wait_s: float = 0.0


@dataclass(frozen=True)
class Reaction:
    """An emoji added to or removed from a message; ``emoji`` as the platform names it
    (Slack ``+1``, Discord ``👍``). :meth:`bot.core.LoreBot.on_reaction` decides if it is a vote."""

    platform: str
    channel: ChannelRef
    user: Actor
    message_id: str
    emoji: str
    added: bool
    event_id: str | None = None


@dataclass(frozen=True)
class Citation:
    """One source an answer used. ``marker`` is the number shown as ``[n]`` in the text."""

    marker: int
    title: str
    uri: str
    heading: str
    snippet: str
    score: float
    chunk_id: int
    document_id: int
    collection: str
    ingested_at: datetime | None = None


@dataclass
class Answer:
    text: str
    citations: list[Citation]
    abstained: bool
    interaction_id: uuid.UUID | None
    timings_ms: dict[str, float] = field(default_factory=dict)
    question: str = ""
    standalone_question: str = ""
    style_model: str | None = None
    notice: str | None = None
    # The text was streamed to the caller's sink as it was written; the final ``text`` (checked,
    # with renumbered markers) is what a surface must end with, replacing the streamed draft.
    streamed: bool = False

    @property
    def reference(self) -> str:
        """A short id people can quote to an admin."""
        return str(self.interaction_id)[:8] if self.interaction_id else "-"


# Receives an answer's text piece by piece while a model writes it (a draft: the final Answer
# replaces it). Adapters that stream (Slack chat_stream, Discord message edits) pass one to ask.
TextSink = Callable[[str], None]


@dataclass(frozen=True)
class CommandInfo:
    """One admin command as a chat surface lists it (``name`` may be two words: ``sources add``)."""

    name: str
    usage: str
    help: str
    # What each positional argument names, in order (e.g. ``("source",)`` for ``sources show
    # NAME``), for surfaces that offer completions through ``Core.complete``; None: free text.
    completes: tuple[str | None, ...] = ()

    @property
    def group(self) -> str:
        return self.name.split()[0]


# The kinds of things an admin argument can name, each completed by ``Core.complete``.
COMPLETION_KINDS = ("source", "collection", "model_version")


@dataclass(frozen=True)
class CommandResult:
    """What an admin command says back. ``ok`` is False for refusals and usage errors."""

    text: str
    ok: bool = True
    private: bool = True


# --- what an app "home" shows a person (bot.home builds it; the Slack Home tab renders it) ---
@dataclass(frozen=True)
class CollectionInfo:
    name: str
    description: str
    sources: int


@dataclass(frozen=True)
class SourceInfo:
    name: str
    kind: str
    collection: str
    status: str
    last_synced: datetime | None
    last_error: str | None = None


@dataclass(frozen=True)
class GapInfo:
    question: str
    abstained: bool
    downvotes: int
    asked_at: datetime


@dataclass(frozen=True)
class AdminHome:
    failing: list[SourceInfo]
    gaps: list[GapInfo]
    gap_count: int
    questions: int
    abstained: int
    up: int
    down: int
    since: datetime

    @property
    def satisfaction(self) -> float | None:
        votes = self.up + self.down
        return self.up / votes if votes else None


@dataclass(frozen=True)
class HomeData:
    collections: list[CollectionInfo]
    sources: list[SourceInfo]
    default_collection: str
    admin: AdminHome | None = None  # None: the viewer is not an admin
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Admission:
    """The rate limits' word on one question (``bot.ratelimit``; ``LoreBot.admit``).

    ``allowed`` False: do not answer; show ``message``. ``allowed`` True with ``wait_s`` > 0:
    queued; show ``message`` now, answer after ``wait_s`` seconds. Otherwise answer at once.
    """

    allowed: bool
    wait_s: float = 0.0
    position: int = 0
    retry_after_s: float = 0.0
    message: str | None = None

    @property
    def queued(self) -> bool:
        return self.allowed and self.wait_s > 0
