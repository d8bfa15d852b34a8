"""The one admin command router behind Slack ``/lore admin``, Discord ``/lore`` and the CLI.

Text in, :class:`~bot.types.CommandResult` out: parse with shlex, find the command spec,
check the actor may run it, run it, and write an audit row whatever happened.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable

from bot.admin.auth import is_admin
from bot.admin.commands import correct, feedback, finetune, forum, gaps, help, scope, sources, status
from bot.admin.context import BackgroundJobs, CommandContext
from bot.admin.registry import CommandSpec, Registry, UsageError
from bot.db import audit
from bot.db.session import Database
from bot.logging import scrub
from bot.settings import ConfigError, Settings
from bot.types import Actor, ChannelRef, CommandResult

log = logging.getLogger(__name__)

# Chat clients "smarten" quotes, which shlex would not recognise.
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
REFUSAL = (
    "Sorry, `{command}` is for lorebot admins only. Ask an admin to run it, or to add you to "
    "LOREBOT_ADMINS. Everyone can use `help` and `status`."
)


def build_registry() -> Registry:
    registry = Registry()
    for module in (help, status, sources, scope, forum, gaps, feedback, correct, finetune):
        for spec in module.specs():
            registry.add(spec)
    return registry


class CommandRouter:
    """Needs only settings and the database; ``jobs`` holds its long commands, for draining."""

    def __init__(self, *, settings: Settings, db: Database, registry: Registry | None = None,
                 jobs: BackgroundJobs | None = None,
                 on_sources_changed: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.db = db
        self.registry = registry or build_registry()
        self.jobs = jobs or BackgroundJobs()
        # Wired by the composer: ``lorebot serve`` rebuilds the scheduler's jobs.
        self.on_sources_changed = on_sources_changed

    def handle(
        self,
        text: str,
        *,
        actor: Actor,
        channel: ChannelRef,
        notify: Callable[[str], None] | None = None,
    ) -> CommandResult:
        text = (text or "").strip()
        try:
            words = shlex.split(text.translate(_QUOTES))
        except ValueError as exc:  # unbalanced quotes
            return self._finish(actor, channel, text.split(" ", 1)[0] or "?", text, allowed=True,
                                result=CommandResult(f"could not read that command ({exc}); "
                                                     "check the quotes", ok=False))
        if words and words[0].lower() == "admin":  # "/lore admin status" as typed
            words = words[1:]
        if not words:
            words = ["help"]
        spec, rest = self.registry.match(words)
        if spec is None:
            name = words[0].lower()
            group = self.registry.group_specs(name)
            if group:
                usage = "\n".join(f"  {s.usage}" for s in group)
                message = f"`{name}` needs a subcommand:\n{usage}"
            else:
                message = f"unknown command `{name}`; try `help` for the list"
            return self._finish(actor, channel, name, " ".join(words[1:]), allowed=True,
                                result=CommandResult(message, ok=False))
        args_text = " ".join(shlex.quote(w) for w in rest)
        allowed = spec.public or is_admin(self.settings, actor)
        if not allowed:
            return self._finish(actor, channel, spec.name, args_text, allowed=False,
                                result=CommandResult(REFUSAL.format(command=spec.name), ok=False))
        return self._finish(actor, channel, spec.name, args_text, allowed=True,
                            result=self._run(spec, rest, actor, channel, notify))

    def _run(self, spec: CommandSpec, rest: list[str], actor: Actor, channel: ChannelRef,
             notify: Callable[[str], None] | None) -> CommandResult:
        args_text = " ".join(shlex.quote(w) for w in rest)

        def record_finish(message: str) -> None:
            self._audit(actor, channel, spec.name, args_text, allowed=True,
                        outcome=f"finished: {message}")

        ctx = CommandContext(settings=self.settings, db=self.db, actor=actor, channel=channel,
                             notify=notify, registry=self.registry, record_finish=record_finish,
                             jobs=self.jobs, on_sources_changed=self.on_sources_changed)
        try:
            parsed = spec.parse(rest)
            return CommandResult(spec.handler(ctx, parsed), private=not spec.public)
        except UsageError as exc:
            return CommandResult(f"{exc}\nusage: {spec.usage}", ok=False)
        except (ConfigError, ValueError, LookupError, OSError) as exc:
            return CommandResult(str(exc), ok=False)
        except Exception as exc:  # noqa: BLE001 - the chat user gets a line, the log the trace
            log.exception("admin command failed", extra={"command": spec.name})
            return CommandResult(f"`{spec.name}` failed ({type(exc).__name__}); the server log "
                                 "has the details", ok=False)

    def _finish(self, actor: Actor, channel: ChannelRef, command: str, arguments: str, *,
                allowed: bool, result: CommandResult) -> CommandResult:
        outcome = ("ok: " if result.ok else ("refused: " if not allowed else "error: ")) + result.text
        self._audit(actor, channel, command, arguments, allowed=allowed, outcome=outcome)
        return result

    def _audit(self, actor: Actor, channel: ChannelRef, command: str, arguments: str, *,
               allowed: bool, outcome: str) -> None:
        try:
            with self.db.session() as s:
                audit.record_command(session=s, platform=actor.platform, actor=actor.key,
                                     channel=channel.id, command=command,
                                     arguments=scrub(arguments), allowed=allowed,
                                     outcome=scrub(outcome))
        except Exception:  # noqa: BLE001 - a command's answer still reaches the person
            log.exception("could not write the audit row for an admin command")
