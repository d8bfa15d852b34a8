"""Command specs: each admin command is declared once, and ``help`` is generated from them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.admin.context import CommandContext


class UsageError(ValueError):
    """The command line did not parse; the router answers with the command's usage line."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing and exiting (this runs inside a chat bot)."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise UsageError(message)

    def exit(self, status: int = 0, message: str | None = None) -> Any:  # type: ignore[override]
        raise UsageError(message or "invalid arguments")


Handler = Callable[["CommandContext", argparse.Namespace], str]


@dataclass(frozen=True)
class CommandSpec:
    """One admin command.

    ``name`` may be two words (``sources add``). ``public`` commands are read-only and reveal
    nothing private, so everyone may run them; every other command is for admins only.
    """

    name: str
    usage: str
    help: str
    handler: Handler
    arguments: Callable[[argparse.ArgumentParser], None] = field(default=lambda p: None)
    read_only: bool = False
    public: bool = False
    long_running: bool = False
    # What each positional argument names (``"source"``, ``"collection"``, ``"model_version"``,
    # None for free text), so chat surfaces can complete it; the last kind repeats for ``NAME...``.
    completes: tuple[str | None, ...] = ()
    # Answer only the person who asked (ephemeral in Slack/Discord); None: private unless public.
    private: bool | None = None

    def parse(self, args: list[str]) -> argparse.Namespace:
        parser = _Parser(prog=self.name, add_help=False, allow_abbrev=False)
        self.arguments(parser)
        return parser.parse_args(args)

    @property
    def group(self) -> str:
        return self.name.split()[0]


class Registry:
    def __init__(self) -> None:
        self._specs: dict[str, CommandSpec] = {}

    def add(self, spec: CommandSpec) -> CommandSpec:
        if spec.name in self._specs:
            raise ValueError(f"admin command {spec.name!r} is declared twice")
        if spec.public and not spec.read_only:
            raise ValueError(f"admin command {spec.name!r} changes things, so it cannot be public")
        self._specs[spec.name] = spec
        return spec

    def all(self) -> list[CommandSpec]:
        return list(self._specs.values())

    def groups(self) -> dict[str, list[CommandSpec]]:
        out: dict[str, list[CommandSpec]] = {}
        for spec in self._specs.values():
            out.setdefault(spec.group, []).append(spec)
        return out

    def match(self, words: list[str]) -> tuple[CommandSpec | None, list[str]]:
        """The spec named by the first one or two words, and the words left over."""
        if len(words) >= 2 and f"{words[0]} {words[1]}".lower() in self._specs:
            return self._specs[f"{words[0]} {words[1]}".lower()], words[2:]
        if words and words[0].lower() in self._specs:
            return self._specs[words[0].lower()], words[1:]
        return None, words[1:]

    def group_specs(self, group: str) -> list[CommandSpec]:
        return [s for s in self._specs.values() if s.group == group.lower()]
