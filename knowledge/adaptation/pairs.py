"""Training pairs for the embedding model, from votes or from a labelled set in BEIR layout.

A pair is a question, a passage that answers it, and optionally passages that looked relevant
but were not (hard negatives). Questions are split into train/validation by a stable hash of
their id, so the same question always lands on the same side, run after run and machine after
machine, and the gate never scores a model on questions it was trained on.
"""

from __future__ import annotations

import csv
import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


class NoLabels(ValueError):
    """There is nothing to learn from yet; the message says where labels come from."""


class LabelledSetError(ValueError):
    """A BEIR folder is incomplete or inconsistent; the message names the file and the id."""


@dataclass(frozen=True)
class TrainingPair:
    query: str
    positive: str
    negatives: tuple[str, ...] = ()
    query_id: str = ""


@dataclass
class LabelledSet:
    """Queries, a corpus and graded relevance judgements (qrels) over them."""

    corpus: dict[str, str]  # doc id -> text embedded for it
    queries: dict[str, str]  # query id -> question
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: relevance > 0}
    name: str = ""
    titles: dict[str, str] = field(default_factory=dict)

    def subset(self, query_ids: Iterable[str]) -> LabelledSet:
        keep = [q for q in query_ids if q in self.qrels]
        return LabelledSet(
            corpus=self.corpus, queries={q: self.queries[q] for q in keep},
            qrels={q: self.qrels[q] for q in keep}, name=self.name, titles=self.titles,
        )


def stable_bucket(key: str, *, salt: str = "lorebot") -> float:
    """A number in [0, 1) fixed by ``key`` alone (sha256, not Python's salted ``hash``)."""
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def stable_split(
    ids: Iterable[str], *, validation_fraction: float = 0.2, salt: str = "lorebot"
) -> tuple[list[str], list[str]]:
    """(train ids, validation ids): each id's side depends only on the id and ``salt``."""
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError("validation_fraction must be between 0 and 1 (exclusive)")
    train: list[str] = []
    val: list[str] = []
    for key in ids:
        (val if stable_bucket(str(key), salt=salt) < validation_fraction else train).append(key)
    return train, val


def load_beir(folder: str | Path, *, split: str = "train") -> LabelledSet:
    """Read a BEIR folder (parsing is ``knowledge.evaluation.load_beir``'s) and check its ids.

    Every query and document a judgement names must exist: a typo in the qrels would silently
    train on nothing, so it is an error naming the line.
    """
    from knowledge.evaluation import EvalDataError, document_text
    from knowledge.evaluation import load_beir as parse_beir

    root = Path(folder).expanduser()
    if not root.is_dir():
        raise LabelledSetError(f"labelled set folder {root} does not exist")
    try:
        data = parse_beir(root, split=split)
    except EvalDataError as exc:
        raise LabelledSetError(str(exc)) from exc
    qrels_file = root / "qrels" / f"{split}.tsv"
    # The parser drops judgements of unknown queries; here they are errors, as are unknown docs.
    with qrels_file.open(encoding="utf-8") as fh:
        for number, row in enumerate(csv.reader(fh, delimiter="\t"), 1):
            if not row or (number == 1 and row[0] in ("query-id", "query_id", "qid")):
                continue
            qid, did = row[0].strip(), row[1].strip() if len(row) > 1 else ""
            if qid not in data.queries:
                raise LabelledSetError(f"{qrels_file}:{number} names query {qid!r}, not in queries.jsonl")
            if did not in data.corpus:
                raise LabelledSetError(f"{qrels_file}:{number} names document {did!r}, not in corpus.jsonl")
    corpus = {d: document_text(v["title"], v["text"]) for d, v in data.corpus.items()}
    titles = {d: v["title"] for d, v in data.corpus.items()}
    return LabelledSet(corpus=corpus, queries=data.queries, qrels=data.qrels, name=root.name,
                       titles=titles)


def pairs_from_labelled(
    labelled: LabelledSet, query_ids: Sequence[str] | None = None, *,
    hard_negatives: dict[str, list[str]] | None = None,
) -> list[TrainingPair]:
    """One pair per (query, relevant document); ``hard_negatives`` maps query id -> doc ids."""
    ids = list(query_ids) if query_ids is not None else sorted(labelled.qrels)
    pairs = []
    for qid in ids:
        negs = tuple(labelled.corpus[d] for d in (hard_negatives or {}).get(qid, []))
        for did in sorted(labelled.qrels.get(qid, {})):
            pairs.append(TrainingPair(query=labelled.queries[qid], positive=labelled.corpus[did],
                                      negatives=negs, query_id=qid))
    return pairs


def mine_hard_negatives(
    labelled: LabelledSet, query_ids: Sequence[str], *, query_vectors: np.ndarray,
    doc_ids: Sequence[str], doc_vectors: np.ndarray, per_query: int = 1,
    skip_top: int = 3, depth: int = 30, seed: int = 13,
) -> dict[str, list[str]]:
    """Non-relevant documents the current model ranks high: what the model must learn to push down.

    The very top ranks are skipped because unlabelled relevant documents gather there
    (false negatives would teach the model the wrong thing).
    """
    rng = random.Random(seed)
    scores = query_vectors @ doc_vectors.T
    top = np.argsort(-scores, axis=1)[:, :depth]
    out: dict[str, list[str]] = {}
    for row, qid in enumerate(query_ids):
        relevant = labelled.qrels.get(qid, {})
        pool = [doc_ids[j] for j in top[row][skip_top:] if doc_ids[j] not in relevant]
        out[qid] = rng.sample(pool, min(per_query, len(pool)))
    return out


def pairs_from_votes(records: Sequence[object]) -> list[TrainingPair]:
    """Pairs from voted answers (``bot.db.embedding_training.VotedQuestion`` records).

    Each up-voted answer pairs its question with every chunk it cited; chunks cited by
    down-voted answers to the same question become its hard negatives.
    """
    pairs = []
    for rec in records:
        negatives = tuple(getattr(rec, "negative_texts", ()))
        for text in getattr(rec, "positive_texts", ()):
            pairs.append(TrainingPair(query=rec.question, positive=text, negatives=negatives,  # type: ignore[attr-defined]
                                      query_id=str(rec.key)))  # type: ignore[attr-defined]
    if not pairs:
        raise NoLabels(
            "no up-voted answers with cited sources yet: nothing to adapt from. Ask questions, "
            "vote 👍 on good answers, or pass a labelled set with --from DIR"
        )
    return pairs
