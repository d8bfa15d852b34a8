"""``forum enable|disable|list``: forum channels where lorebot answers every new post.

Stored next to the channel scopes (a forum's posts search what the forum's scope allows).
Only Discord has forum channels today; the command exists on every surface like the others,
so an admin can also enable a forum from the CLI (``forum enable discord:123``).
"""

from __future__ import annotations

import argparse

from bot.admin.commands.scope import parse_channel
from bot.admin.context import CommandContext
from bot.admin.registry import CommandSpec
from bot.db import scopes as scopes_db


def _enable(ctx: CommandContext, args: argparse.Namespace) -> str:
    platform, channel = parse_channel(args.channel, default_platform=ctx.channel.platform)
    if platform != "discord":
        raise ValueError(f"{platform} has no forum channels; forums are a Discord feature")
    with ctx.db.session() as s:
        added = scopes_db.enable_forum(session=s, platform=platform, channel=channel,
                                       enabled_by=ctx.actor.key)
    if not added:
        return f"{platform}:{channel} is already answered as a forum"
    return (f"lorebot now answers every new post in {platform}:{channel} (in the post's thread); "
            "follow-ups there are answered as in any thread")


def _disable(ctx: CommandContext, args: argparse.Namespace) -> str:
    platform, channel = parse_channel(args.channel, default_platform=ctx.channel.platform)
    with ctx.db.session() as s:
        removed = scopes_db.disable_forum(session=s, platform=platform, channel=channel)
    if not removed:
        return f"{platform}:{channel} was not an answered forum"
    return f"lorebot no longer answers new posts in {platform}:{channel} by itself"


def _list(ctx: CommandContext, args: argparse.Namespace) -> str:
    with ctx.db.session() as s:
        rows = scopes_db.list_forums(session=s)
        lines = [f"{r.platform}:{r.channel} (enabled by {r.enabled_by or 'unknown'})" for r in rows]
    if not lines:
        return "no forum is answered; `forum enable #forum` answers every new post in one"
    return "forums answered:\n" + "\n".join(f"  {line}" for line in lines)


def specs() -> list[CommandSpec]:
    return [
        CommandSpec(
            name="forum enable", usage="forum enable #forum",
            help="Answer every new post in this forum channel, in the post's thread.",
            handler=_enable, arguments=lambda p: p.add_argument("channel"),
        ),
        CommandSpec(
            name="forum disable", usage="forum disable #forum",
            help="Stop answering new posts in this forum channel.",
            handler=_disable, arguments=lambda p: p.add_argument("channel"),
        ),
        CommandSpec(
            name="forum list", usage="forum list", help="The forum channels lorebot answers.",
            handler=_list, read_only=True,
        ),
    ]
