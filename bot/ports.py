"""``Core``: the few calls a chat adapter makes into lorebot, as a Protocol.

Adapters (Slack, Discord, the console) are typed against this, not against
:class:`bot.core.LoreBot`, so their tests run on ``tests/helpers/fake_core.py`` with no
database and no model, and an adapter cannot reach past the facade into records or retrieval.
Every method is synchronous; async adapters call them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.types import (
    Actor,
    Admission,
    Answer,
    ChannelRef,
    CommandInfo,
    CommandResult,
    HomeData,
    IncomingMessage,
    Reaction,
    Reply,
    TextSink,
)

if TYPE_CHECKING:
    from bot.settings import Settings


@runtime_checkable
class Core(Protocol):
    def on_message(self, msg: IncomingMessage) -> Reply | None:
        """The reply ``msg`` gets (None: not for lorebot, a thank-you, or a repeat delivery)."""
        ...

    def on_reaction(self, reaction: Reaction) -> bool:
        """Count a vote emoji on an answer; True if a vote was recorded or removed."""
        ...

    def ask(self, question: str, *, channel: ChannelRef, asker: Actor,
            thread: str | None = None, on_text: TextSink | None = None) -> Answer:
        """The grounded answer; ``on_text`` receives its text as a model writes it (a draft
        the returned answer replaces). Called from a worker thread by async adapters."""
        ...

    def admit(self, *, asker: Actor, channel: ChannelRef) -> Admission:
        """The rate limits' word on a question asked directly (slash command, shortcut,
        context menu); ``on_message`` applies them itself."""
        ...

    def home(self, viewer: Actor) -> HomeData:
        """What the app's home shows ``viewer``."""
        ...

    def claim_event(self, *, platform: str, event_id: str) -> bool:
        """True the first time ``event_id`` is claimed on any replica (exactly-once handling)."""
        ...

    def attach_reply(self, *, interaction_id: uuid.UUID, reply_ref: str) -> None:
        """Remember the platform message carrying an answer, so reactions on it count."""
        ...

    def vote(self, *, user: Actor, value: int, signal: str, interaction_id: uuid.UUID | None = None,
             reply_ref: str | None = None, comment: str | None = None) -> bool: ...

    def unvote(self, *, user: Actor, value: int | None = None, interaction_id: uuid.UUID | None = None,
               reply_ref: str | None = None) -> bool:
        """Remove ``user``'s vote (only if it is ``value``, when given); True if one was removed."""
        ...

    def comment(self, *, user: Actor, interaction_id: uuid.UUID, text: str) -> bool: ...

    def suggested_prompts(self, limit: int = 4) -> list[str]:
        """Questions to suggest before someone asks (configured, or the most-asked answered)."""
        ...

    def command(self, text: str, *, actor: Actor, channel: ChannelRef,
                notify: Callable[[str], None] | None = None) -> CommandResult: ...

    def commands(self) -> list[CommandInfo]:
        """Every admin command, from the one registry: chat surfaces list these."""
        ...

    def vote_of(self, reaction: Reaction) -> int | None:
        """+1 / -1 if ``reaction``'s emoji is a vote (settings decide which), else None."""
        ...

    def on_forum_post(self, msg: IncomingMessage) -> Reply | None:
        """The reply a new forum post gets (None: the forum is not enabled, or a repeat)."""
        ...

    def complete(self, kind: str, prefix: str, *, actor: Actor | None = None,
                 limit: int = 25) -> list[str]:
        """Names of ``kind`` (a ``CommandInfo.completes`` entry) starting with ``prefix``."""
        ...


def default_core(settings: Settings) -> Core:
    """The real core for ``settings`` (opens the database, migrating it); for an adapter
    started without one, e.g. ``create_bot()`` then ``bot.run``. Imported here, on use, so
    adapters never import the composition modules themselves."""
    from bot.core import LoreBot

    return LoreBot.from_settings(settings)
