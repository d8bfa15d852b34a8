"""``scope show|set|clear``: which collections a channel (or DM) may search and cite."""

from __future__ import annotations

import argparse
import re

from bot.admin.context import CommandContext
from bot.admin.registry import CommandSpec
from bot.db import scopes as scopes_db
from bot.db import sources as sources_db

_SLACK_MENTION = re.compile(r"^<#([A-Z0-9]+)(?:\|[^>]*)?>$")
_DISCORD_MENTION = re.compile(r"^<#(\d+)>$")
_PREFIXED = re.compile(r"^(slack|discord):#?(\S+)$", re.I)
_PLATFORMS = ("slack", "discord")


_SLACK_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_DISCORD_ID = re.compile(r"^\d{1,20}$")


def _checked(platform: str, channel: str, token: str) -> tuple[str, str]:
    """Refuse what looks like a channel *name*: scoping a name would scope no real channel
    while the channel people meant keeps answering from everything."""
    shape = _SLACK_ID if platform == "slack" else _DISCORD_ID
    if not shape.match(channel):
        where = "Slack ids look like C0123ABCD" if platform == "slack" else "Discord ids are digits"
        raise ValueError(
            f"{token!r} is a channel name, not a channel id ({where}); mention the channel "
            "(type # and pick it) so the platform sends its id, or give the id")
    return platform, channel


def parse_channel(token: str, *, default_platform: str) -> tuple[str, str]:
    """A channel mention or id -> (platform, channel id).

    Accepts Slack ``<#C123|name>``, Discord ``<#123>``, ``slack:C123`` / ``discord:123`` and a
    bare id (``C123``, ``#C123``) on the platform the command came from. A name that is not an
    id (``#public-lobby``) is refused: the platform's id is what scopes bind to.
    """
    token = token.strip()
    if m := _DISCORD_MENTION.match(token):  # all digits; Slack ids start with a letter
        return "discord", m.group(1)
    if m := _SLACK_MENTION.match(token):
        return "slack", m.group(1)
    if m := _PREFIXED.match(token):
        return _checked(m.group(1).lower(), m.group(2), token)
    bare = token.lstrip("#")
    if not bare or not re.fullmatch(r"[A-Za-z0-9_-]+", bare):
        raise ValueError(f"{token!r} is not a channel; mention it (#channel) or give its id")
    if default_platform not in _PLATFORMS:
        raise ValueError(
            f"say which platform {bare!r} is on: slack:{bare} or discord:{bare}"
        )
    return _checked(default_platform, bare, token)


def _target(ctx: CommandContext, token: str | None) -> tuple[str, str]:
    if token is None:
        if ctx.channel.platform not in _PLATFORMS:
            raise ValueError("name a channel, e.g. `scope show slack:C123`")
        return ctx.channel.platform, ctx.channel.id
    return parse_channel(token, default_platform=ctx.channel.platform)


def _show(ctx: CommandContext, args: argparse.Namespace) -> str:
    default = ctx.settings.default_collection
    with ctx.db.session() as s:
        if args.channel is None and ctx.channel.platform not in _PLATFORMS:
            rows = scopes_db.list_scopes(session=s)
            if not rows:
                return f"no channel has a scope; every channel searches {_default_words(default)}"
            return "\n".join(f"{r.platform}:{r.channel} -> {', '.join(r.collections) or '(nothing)'}"
                             for r in rows)
        platform, channel = _target(ctx, args.channel)
        scope = scopes_db.get_scope(session=s, platform=platform, channel=channel)
    if scope is None:
        return f"{platform}:{channel} has no scope; it searches {_default_words(default)}"
    return f"{platform}:{channel} searches: {', '.join(scope) or '(nothing)'}"


def _default_words(default: str) -> str:
    if default.strip().lower() == "none":
        return "nothing (DEFAULT_COLLECTION=none)"
    return f"the default collection `{default}`"


def _set(ctx: CommandContext, args: argparse.Namespace) -> str:
    platform, channel = parse_channel(args.channel, default_platform=ctx.channel.platform)
    wanted = list(dict.fromkeys(args.collections))
    with ctx.db.session() as s:
        known = {c.name for c in sources_db.list_collections(session=s)}
        unknown = [c for c in wanted if c not in known]
        if unknown:
            listing = ", ".join(sorted(known)) or "none yet (add a source first)"
            raise ValueError(f"no collection named {', '.join(unknown)}; collections: {listing}")
        scopes_db.set_scope(session=s, platform=platform, channel=channel, collections=wanted)
    return f"{platform}:{channel} now searches only: {', '.join(wanted)}"


def _clear(ctx: CommandContext, args: argparse.Namespace) -> str:
    platform, channel = parse_channel(args.channel, default_platform=ctx.channel.platform)
    with ctx.db.session() as s:
        removed = scopes_db.clear_scope(session=s, platform=platform, channel=channel)
    default = _default_words(ctx.settings.default_collection)
    if not removed:
        return f"{platform}:{channel} had no scope; it searches {default}"
    return f"scope of {platform}:{channel} cleared; it now searches {default}"


def specs() -> list[CommandSpec]:
    return [
        CommandSpec(
            name="scope show", usage="scope show [#channel]",
            help="Show which collections a channel searches (this channel by default).",
            handler=_show, arguments=lambda p: p.add_argument("channel", nargs="?"),
            read_only=True,
        ),
        CommandSpec(
            name="scope set", usage="scope set #channel COLLECTION...",
            completes=(None, "collection"),
            help="Let a channel search (and cite) only these collections.",
            handler=_set,
            arguments=lambda p: (p.add_argument("channel"),
                                 p.add_argument("collections", nargs="+")),
        ),
        CommandSpec(
            name="scope clear", usage="scope clear #channel",
            help="Remove a channel's scope, so it searches the default collection again.",
            handler=_clear, arguments=lambda p: p.add_argument("channel"),
        ),
    ]
