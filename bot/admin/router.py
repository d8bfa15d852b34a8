"""The one admin command router behind Slack ``/lore admin``, Discord ``/lore`` and the CLI.

Text in, :class:`~bot.types.CommandResult` out: parse with shlex, find the command spec,
check the actor may run it, run it, and write an audit row whatever happened.
"""

from __future__ import annotations

import logging
import shlex
import time
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
    """Needs only settings and the database; ``jobs`` holds its long commands, for draining.

    Every command gets an audit row *before* it runs (outcome ``running``), completed after
    with its outcome and duration; if that first row cannot be written the command is not run.
    """

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
        admin = is_admin(self.settings, actor)
        try:
            words = shlex.split(text.translate(_QUOTES))
        except ValueError as exc:  # unbalanced quotes
            unreadable = CommandResult(f"could not read that command ({exc}); check the quotes",
                                       ok=False)
            return self._answer(actor, channel, text.split(" ", 1)[0] or "?", text, allowed=True,
                                run=lambda: unreadable)
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
            # Only admins may probe for commands: anyone else's unknown command is a refusal.
            return self._answer(actor, channel, name, " ".join(words[1:]), allowed=admin,
                                run=lambda: CommandResult(message, ok=False))
        args_text = " ".join(shlex.quote(w) for w in rest)
        if not (spec.public or admin):
            return self._answer(actor, channel, spec.name, args_text, allowed=False,
                                run=lambda: CommandResult(REFUSAL.format(command=spec.name),
                                                          ok=False))
        return self._answer(actor, channel, spec.name, args_text, allowed=True,
                            run=lambda: self._run(spec, rest, actor, channel, notify))

    def _run(self, spec: CommandSpec, rest: list[str], actor: Actor, channel: ChannelRef,
             notify: Callable[[str], None] | None) -> CommandResult:
        args_text = " ".join(shlex.quote(w) for w in rest)

        def record_finish(message: str) -> None:
            self._audit(actor, channel, spec.name, args_text, allowed=True,
                        outcome=f"finished: {message}", done=True)

        ctx = CommandContext(settings=self.settings, db=self.db, actor=actor, channel=channel,
                             notify=notify, registry=self.registry, record_finish=record_finish,
                             jobs=self.jobs, on_sources_changed=self.on_sources_changed)
        private = spec.private if spec.private is not None else not spec.public
        try:
            parsed = spec.parse(rest)
            return CommandResult(spec.handler(ctx, parsed), private=private)
        except UsageError as exc:
            return CommandResult(f"{exc}\nusage: {spec.usage}", ok=False)
        except (ConfigError, ValueError, LookupError, OSError) as exc:
            return CommandResult(str(exc), ok=False)
        except Exception as exc:  # noqa: BLE001 - the chat user gets a line, the log the trace
            log.exception("admin command failed", extra={"command": spec.name})
            return CommandResult(f"`{spec.name}` failed ({type(exc).__name__}); the server log "
                                 "has the details", ok=False)

    def _answer(self, actor: Actor, channel: ChannelRef, command: str, arguments: str, *,
                allowed: bool, run: Callable[[], CommandResult]) -> CommandResult:
        """Audit, run, complete the audit: the row exists before ``run`` is called."""
        row_id = self._audit(actor, channel, command, arguments, allowed=allowed,
                             outcome="running" if allowed else "refused")
        if row_id is None:
            return CommandResult("I could not write the audit trail, so I did not run that "
                                 "command; the server log has the details", ok=False)
        started = time.monotonic()
        result = run()
        outcome = ("ok: " if result.ok else ("refused: " if not allowed else "error: ")) + result.text
        try:
            with self.db.session() as s:
                audit.finish_command(session=s, row_id=row_id, outcome=scrub(outcome),
                                     duration_ms=int((time.monotonic() - started) * 1000))
        except Exception:  # noqa: BLE001 - the row says "running"; the answer still goes out
            log.exception("could not complete the audit row of an admin command")
        return result

    def _audit(self, actor: Actor, channel: ChannelRef, command: str, arguments: str, *,
               allowed: bool, outcome: str, done: bool = False) -> int | None:
        write = audit.record_command if done else audit.start_command
        try:
            with self.db.session() as s:
                return write(session=s, platform=actor.platform, actor=actor.key,
                                           channel=channel.id, command=command,
                                           arguments=scrub(arguments), allowed=allowed,
                                           outcome=scrub(outcome)).id
        except Exception:  # noqa: BLE001
            log.exception("could not write the audit row for an admin command")
            return None
