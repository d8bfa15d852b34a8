"""Pure parts of the Discord community features: what to autocomplete from the registry,
the streamed draft's text, when an interaction token counts as expired, forum post questions."""

from __future__ import annotations

import datetime as dt

from adapters.discord import complete
from adapters.discord.private import token_expired
from adapters.discord.streaming import DRAFT_LIMIT, draft_text
from adapters.discord.translate import strip_mentions
from bot.admin.router import build_registry
from bot.types import COMPLETION_KINDS, CommandInfo

INFOS = [CommandInfo(name=s.name, usage=s.usage, help=s.help, completes=s.completes)
         for s in build_registry().all()]


def test_every_declared_completion_kind_is_one_the_core_lists() -> None:
    kinds = {k for i in INFOS for k in i.completes if k is not None}
    assert kinds == set(COMPLETION_KINDS)


def test_what_to_complete_follows_the_registry() -> None:
    words = complete.what_to_complete("sources", INFOS, "")
    assert words is not None and set(words.words) == {"list", "add", "remove", "reindex", "show"}
    assert complete.what_to_complete("sources", INFOS, "re").words == ("remove", "reindex")
    name = complete.what_to_complete("sources", INFOS, "show hand")
    assert (name.kind, name.prefix, name.head) == ("source", "hand", "show ")
    # scope set #channel COLLECTION...: the channel is free text, then collections repeat
    assert complete.what_to_complete("scope", INFOS, "set <#1> ").kind == "collection"
    assert complete.what_to_complete("scope", INFOS, "set <#1> eng hr").kind == "collection"
    assert complete.what_to_complete("scope", INFOS, "set <#") is None  # a channel: free text
    assert complete.what_to_complete("sources", INFOS, "reindex --a") is None  # an option
    assert complete.what_to_complete("sources", INFOS, "add x") is None  # nothing declared
    assert complete.what_to_complete("reindex", INFOS, "", prefix_words="sources reindex").kind == "source"
    assert complete.what_to_complete("nope", INFOS, "x") is None


def test_choices_fit_discords_limits() -> None:
    what = complete.Completion(head="show ", prefix="", kind="source")
    names = [f"s{i}" for i in range(40)] + ["x" * 120]
    out = complete.choices(what, names)
    assert len(out) == 25 and out[0] == ("show s0", "show s0")
    assert all(len(v) <= 100 for _, v in complete.choices(what, ["x" * 120, "ok"]))


def test_draft_text_stays_within_a_message_and_says_it_is_unfinished() -> None:
    assert draft_text("Deploys run") == "Deploys run …"
    long = draft_text("word " * 1000)
    assert len(long) <= DRAFT_LIMIT and long.endswith(" …")


def test_token_expiry_with_a_margin() -> None:
    now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    assert not token_expired(now - dt.timedelta(minutes=10), now)
    assert token_expired(now - dt.timedelta(minutes=14, seconds=45), now)
    assert token_expired(now - dt.timedelta(hours=1), now)


def test_role_mentions_of_the_bot_are_stripped_from_the_question() -> None:
    assert strip_mentions("<@&77> how do we deploy?", 5, (77,)) == "how do we deploy?"
    assert strip_mentions("<@&78> how?", 5, (77,)) == "<@&78> how?"
