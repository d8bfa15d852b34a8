"""``lorebot embeddings adapt``: labels -> split -> train -> held-out gate -> registered version.

The current model is whatever the active space uses. Its vectors of the evaluation corpus are
computed once and serve three purposes: the 'before' score, mining hard negatives for the
training questions, and the comparison the gate makes.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.db import embedding_training as records
from knowledge.adaptation import gate as gating
from knowledge.adaptation import switch
from knowledge.adaptation.pairs import (
    LabelledSet,
    NoLabels,
    TrainingPair,
    load_beir,
    mine_hard_negatives,
    pairs_from_labelled,
    stable_split,
)
from knowledge.adaptation.train import TrainConfig, train_embedding_model

log = logging.getLogger(__name__)


@dataclass
class AdaptReport:
    version: str
    path: str
    status: str  # "candidate" (passed the gate) or "rejected"
    gate: gating.GateResult
    split: dict[str, int]
    training: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "path": self.path, "status": self.status,
                "gate": self.gate.to_json(), "split": self.split, "training": self.training,
                "source": self.source}


def labelled_from_feedback(*, database: Any) -> tuple[LabelledSet, dict[str, list[str]]]:
    """Voted questions as a labelled set over the stored chunks, plus 👎 citations per question."""
    with database.session() as session:
        voted = records.voted_questions(session=session)
        corpus = records.all_chunk_texts(session=session)
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


def adapt(
    *, database: Any, settings: Any, beir_dir: str | None = None, split: str = "train",
    from_feedback: bool = False, config: TrainConfig | None = None, version: str | None = None,
    base_model: str | None = None, validation_fraction: float = 0.2, tolerance: float = 0.0,
    hard_negatives: int = 1,
) -> AdaptReport:
    if bool(beir_dir) == bool(from_feedback):
        raise ValueError("choose one label source: --from-feedback or --from DIR")
    if beir_dir:
        labelled = load_beir(beir_dir, split=split)
        voted_negatives: dict[str, list[str]] = {}
        source = f"beir:{Path(beir_dir).name}/{split}"
    else:
        labelled, voted_negatives = labelled_from_feedback(database=database)
        source = "feedback"
    fit, dev, val = split_queries(labelled, validation_fraction=validation_fraction)
    with database.session() as session:
        switch.ensure_base_registered(session=session, settings=settings)
        current_spec = switch.active_spec(session=session, settings=settings)
        version = version or records.next_version(session=session, prefix="adapted")
        if records.get_embedding_model(session=session, version=version) is not None:
            raise ValueError(f"embedding model version {version!r} already exists")
    current = switch.encoder_for(current_spec, settings)
    start_model = base_model or current_spec.model_path
    if base_model:
        from knowledge.embeddings import ModelNotFound, resolve_model_path

        if not Path(resolve_model_path(base_model)).is_dir():
            raise ModelNotFound(f"embedding model folder {base_model} does not exist")
    before, doc_ids, doc_vectors = gating.evaluate_encoder(encoder=current, labelled=labelled,
                                                           query_ids=val)
    negatives = {q: list(voted_negatives.get(q, [])) for q in fit}
    if hard_negatives > 0 and current_spec.projection is None and current_spec.truncate is None:
        qv = current.encode([labelled.queries[q] for q in fit])
        mined = mine_hard_negatives(labelled, fit, query_vectors=qv, doc_ids=doc_ids,
                                    doc_vectors=doc_vectors, per_query=hard_negatives)
        for q, extra in mined.items():
            negatives[q] = (negatives[q] + [d for d in extra if d not in negatives[q]])[:hard_negatives + 2]
    train_pairs: list[TrainingPair] = pairs_from_labelled(labelled, fit, hard_negatives=negatives)
    dev_pairs = pairs_from_labelled(labelled, dev)
    out = Path(settings.lorebot_data_dir) / "models" / "embeddings" / version
    if out.exists():
        shutil.rmtree(out)
    trained = train_embedding_model(base_model=start_model, train_pairs=train_pairs,
                                    validation_pairs=dev_pairs, output_dir=out, config=config)
    from knowledge.embeddings import Embedder

    candidate_embedder = Embedder(str(out), batch_size=settings.embedding_batch_size,
                                  max_tokens=settings.embedding_max_tokens,
                                  precision=settings.embedding_precision)
    candidate_spec = switch.SpaceSpec(
        space=switch.VectorSpace(version, table=switch.spaces.table_for(version),
                                 dimension=candidate_embedder.dimension),
        model_path=str(out),
    )
    after, _, _ = gating.evaluate_encoder(encoder=switch.SpaceEncoder(candidate_spec, candidate_embedder),
                                          labelled=labelled, query_ids=val)
    decision = gating.decide(before, after, tolerance=tolerance)
    status = "candidate" if decision.passed else "rejected"
    split_counts = {"train": len(fit), "dev": len(dev), "validation": len(val),
                    "pairs": len(train_pairs), "corpus": len(labelled.corpus)}
    with database.session() as session:
        records.register_embedding_model(
            session=session, version=version, base_model=start_model, path=str(out),
            dimension=candidate_embedder.dimension, status=status,
            metrics={"space": candidate_spec.to_json(), "gate": decision.to_json(),
                     "validation": {"current": before, "candidate": after,
                                    "current_version": current_spec.space.version},
                     "training": trained.summary(), "split": split_counts, "source": source},
        )
    return AdaptReport(version=version, path=str(out), status=status, gate=decision,
                       split=split_counts, training=trained.summary(), source=source)
