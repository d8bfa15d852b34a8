"""Autocompletion of ``/lore`` arguments, from the same registry the router parses with.

Pure: given a subcommand's registry entries and the ``args`` text typed so far, say what to
complete (a subcommand word from the registry, or a name of some kind the core lists). The
cog asks ``Core.complete(kind, prefix)`` for names; nothing here talks to Discord.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.types import CommandInfo

CHOICES_LIMIT = 25  # Discord shows at most 25 choices
CHOICE_LIMIT = 100  # and each is at most 100 characters


@dataclass(frozen=True)
class Completion:
    """``words``: candidates known already (subcommand words); ``kind``: ask the core for names
    of this kind starting with ``prefix``. Either way each choice is ``head`` + candidate."""

    head: str
    prefix: str
    words: tuple[str, ...] = ()
    kind: str | None = None


def what_to_complete(group: str, infos: list[CommandInfo], current: str,
                     *, prefix_words: str = "") -> Completion | None:
    """What ``/lore <group> args:<current>`` could continue with, or None (free text).

    ``prefix_words`` is the router's words a shortcut stands for (``reindex`` is ``sources
    reindex``), so its ``args`` start after them."""
    specs = [i for i in infos if i.group == group]
    if prefix_words:
        specs = [i for i in infos if i.name == prefix_words]
    if not specs:
        return None
    words = current.split()
    trailing = not current or current[-1].isspace()
    head = current if trailing else current[: len(current) - len(words[-1])]
    typed = "" if trailing else words[-1]
    two_word = not prefix_words and any(len(i.name.split()) > 1 for i in specs)
    if two_word and len(words) + (1 if trailing else 0) <= 1:
        subs = tuple(i.name.split()[1] for i in specs if len(i.name.split()) > 1)
        return Completion(head=head, prefix=typed,
                          words=tuple(w for w in subs if w.startswith(typed.lower())))
    if two_word:
        spec = next((i for i in specs if i.name.split()[1:2] == [words[0].lower()]), None)
        positional = words[1:]
    else:
        spec = specs[0]
        positional = words
    if spec is None or not spec.completes:
        return None
    if typed.startswith("-"):
        return None  # an option, not a name
    done = [w for w in (positional if trailing else positional[:-1]) if not w.startswith("-")]
    index = len(done)
    kind = spec.completes[min(index, len(spec.completes) - 1)]
    if kind is None:
        return None
    return Completion(head=head, prefix=typed, kind=kind)


def choices(completion: Completion, names: list[str]) -> list[tuple[str, str]]:
    """(name shown, value) pairs within Discord's limits; the value is the whole ``args``."""
    out = []
    for name in [*completion.words, *names]:
        value = completion.head + name
        if len(value) > CHOICE_LIMIT:
            continue
        out.append((value, value))
        if len(out) == CHOICES_LIMIT:
            break
    return out
