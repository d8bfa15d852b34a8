"""``gaps [--days N]``: what people asked that lorebot could not answer well, grouped.

Questions it abstained on or that got a 👎 are embedded with the shared embedder and grouped
greedily by cosine similarity, so ten wordings of one missing topic show up as one gap.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.admin.commands._common import add_days, since_days
from bot.admin.context import CommandContext
from bot.admin.registry import CommandSpec
from bot.db import stats
from bot.db.stats import GapQuestion

SIMILARITY = 0.6
SHOWN_GROUPS = 10
EXAMPLES = 3


@dataclass
class Gap:
    questions: list[GapQuestion]

    @property
    def abstained(self) -> int:
        return sum(q.abstained for q in self.questions)

    @property
    def downvotes(self) -> int:
        return sum(q.downvotes for q in self.questions)


def group_by_similarity(vectors: np.ndarray, *, threshold: float = SIMILARITY) -> list[list[int]]:
    """Greedy single pass: each item joins the first group whose seed is similar enough.

    ``vectors`` must be L2-normalised, so a dot product is the cosine. Groups come back
    largest first; ties keep the input order.
    """
    seeds: list[int] = []
    groups: list[list[int]] = []
    for i in range(len(vectors)):
        if seeds:
            sims = vectors[seeds] @ vectors[i]
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                groups[best].append(i)
                continue
        seeds.append(i)
        groups.append([i])
    return sorted(groups, key=len, reverse=True)


def find_gaps(questions: Sequence[GapQuestion], embed: object) -> list[Gap]:
    if not questions:
        return []
    vectors = np.asarray(embed([q.question for q in questions]), dtype=np.float32)  # type: ignore[operator]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1, norms)
    return [Gap([questions[i] for i in group]) for group in group_by_similarity(vectors)]


def _gaps(ctx: CommandContext, args: argparse.Namespace) -> str:
    with ctx.db.session() as s:
        questions = stats.gap_questions(session=s, since=since_days(args.days))
    if not questions:
        return f"no gaps in the last {args.days} days: nothing abstained on or voted 👎"
    from knowledge.embeddings import embedder_from_settings

    gaps = find_gaps(questions, embedder_from_settings(ctx.settings).embed)
    lines = [f"{len(questions)} unanswered or 👎 questions in the last {args.days} days, "
             f"in {len(gaps)} groups:"]
    for n, gap in enumerate(gaps[:SHOWN_GROUPS], 1):
        lines.append(f"{n}. {len(gap.questions)}x (abstained {gap.abstained}, 👎 {gap.downvotes})")
        for q in gap.questions[:EXAMPLES]:
            lines.append(f"   - {q.question[:200]} [{str(q.interaction_id)[:8]}]")
    if len(gaps) > SHOWN_GROUPS:
        lines.append(f"... and {len(gaps) - SHOWN_GROUPS} smaller groups")
    return "\n".join(lines)


def specs() -> list[CommandSpec]:
    return [
        CommandSpec(
            name="gaps", usage="gaps [--days N]",
            help="Questions lorebot abstained on or that got 👎, grouped by topic "
                 "(default: last 30 days).",
            handler=_gaps, arguments=lambda p: add_days(p, 30), read_only=True,
        )
    ]
