"""Labels for adaptation from votes: the voted-question record and the labelled set built from it.

The bot reads votes from its own tables and passes a reader in; this module turns them into a
:class:`LabelledSet` over the stored chunks and splits its questions.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from knowledge.adaptation.pairs import LabelledSet, NoLabels, stable_split
from knowledge.store.base import Database
from knowledge.store.corpus import all_chunk_texts


@dataclass
class VotedQuestion:
    """One question with what its voted answers cited (grouped by the question's text)."""

    key: str
    question: str
    positive_chunk_ids: list[int] = field(default_factory=list)
    negative_chunk_ids: list[int] = field(default_factory=list)
    positive_texts: list[str] = field(default_factory=list)
    negative_texts: list[str] = field(default_factory=list)
    interaction_ids: list[uuid.UUID] = field(default_factory=list)


VotedQuestionsReader = Callable[[Session], Sequence[VotedQuestion]]


def labelled_from_feedback(*, database: Database, voted_questions: VotedQuestionsReader
                           ) -> tuple[LabelledSet, dict[str, list[str]]]:
    """Voted questions as a labelled set over the stored chunks, plus 👎 citations per question.

    ``voted_questions(session)`` reads them (the bot owns the interactions and votes).
    """
    with database.session() as session:
        voted = voted_questions(session)
        corpus = all_chunk_texts(session=session)
    usable = [v for v in voted if v.positive_chunk_ids]
    if not usable:
        raise NoLabels(
            "no up-voted answers with cited sources yet: nothing to adapt from. Ask questions, "
            "vote 👍 on good answers (👎 on bad ones), or pass a labelled set with --from DIR"
        )
    labelled = LabelledSet(
        corpus={str(c): t for c, t in corpus.items()},
        queries={v.key: v.question for v in usable},
        qrels={v.key: {str(c): 1 for c in v.positive_chunk_ids} for v in usable},
        name="feedback",
    )
    negatives = {v.key: [str(c) for c in v.negative_chunk_ids] for v in usable}
    return labelled, negatives


def split_queries(labelled: LabelledSet, *, validation_fraction: float = 0.2
                  ) -> tuple[list[str], list[str], list[str]]:
    """(train, dev, validation): validation is held out for the gate, dev for early stopping."""
    train, val = stable_split(sorted(labelled.qrels), validation_fraction=validation_fraction)
    if len(train) < 2 or not val:
        raise NoLabels(
            f"{len(labelled.qrels)} labelled question(s) are too few to train on and hold some "
            "out for the gate; collect more (at least ~10 voted questions with cited sources)"
        )
    fit, dev = stable_split(train, validation_fraction=0.1, salt="lorebot-dev")
    if len(fit) < 2:
        fit, dev = train, []
    return fit, dev, val


