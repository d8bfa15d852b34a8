"""``correct INTERACTION_ID TEXT``: an admin's corrected answer, the style model's best signal."""

from __future__ import annotations

import argparse
import re
import uuid

from bot.admin.context import CommandContext
from bot.admin.registry import CommandSpec
from bot.db import feedback as feedback_db
from bot.db import stats
from bot.identity import user_hash

_PREFIX = re.compile(r"^[0-9a-f-]{4,36}$")


def resolve_interaction(ctx: CommandContext, ref: str) -> uuid.UUID:
    """A full answer id or the short reference shown under answers -> the interaction id."""
    ref = ref.strip().lower()
    if not _PREFIX.match(ref):
        raise ValueError(f"{ref!r} is not an answer reference; quote the id shown under the answer")
    with ctx.db.session() as s:
        found = stats.find_interaction(session=s, prefix=ref)
    if not found:
        raise LookupError(f"no answer with reference {ref}; check the id shown under the answer")
    if len(found) > 1:
        raise LookupError(f"{ref} matches several answers; give more of the id")
    return found[0]


def _correct(ctx: CommandContext, args: argparse.Namespace) -> str:
    text = " ".join(args.text).strip()
    if not text:
        raise ValueError("give the corrected answer text after the id")
    interaction_id = resolve_interaction(ctx, args.interaction)
    with ctx.db.session() as s:
        feedback_db.add_correction(session=s, interaction_id=interaction_id,
                                   user_hash=user_hash(ctx.settings, ctx.actor), text=text)
    return (f"correction saved for answer {str(interaction_id)[:8]}; the style model will learn "
            "from it at the next training")


def specs() -> list[CommandSpec]:
    return [
        CommandSpec(
            name="correct", usage="correct INTERACTION_ID TEXT",
            help="Store a corrected answer for an answer lorebot gave (quote its reference).",
            handler=_correct,
            arguments=lambda p: (p.add_argument("interaction"),
                                 p.add_argument("text", nargs=argparse.REMAINDER)),
        )
    ]
