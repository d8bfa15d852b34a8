"""``help [COMMAND]``: generated from the command specs, so it never drifts from them."""

from __future__ import annotations

import argparse

from bot.admin.context import CommandContext
from bot.admin.registry import CommandSpec


def _help(ctx: CommandContext, args: argparse.Namespace) -> str:
    registry = ctx.registry
    assert registry is not None
    wanted = " ".join(args.command).lower()
    if not wanted:
        lines = ["lorebot admin commands (`help COMMAND` for details):"]
        for spec in registry.all():
            marker = "" if spec.public else " (admins)"
            lines.append(f"  {spec.usage}{marker}")
        return "\n".join(lines)
    specs = [s for s in registry.all() if s.name == wanted] or registry.group_specs(wanted)
    if not specs:
        raise ValueError(f"no command `{wanted}`; `help` lists them all")
    blocks = []
    for spec in specs:
        who = "everyone" if spec.public else "admins only"
        blocks.append(f"{spec.usage}\n    {spec.help} ({who})")
    return "\n".join(blocks)


def specs() -> list[CommandSpec]:
    return [
        CommandSpec(
            name="help", usage="help [COMMAND]", help="List the commands, or explain one.",
            handler=_help, arguments=lambda p: p.add_argument("command", nargs="*"),
            read_only=True, public=True,
        )
    ]
