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

from knowledge.adaptation import gate as gating
from knowledge.adaptation import switch
from knowledge.adaptation.labels import (
    VotedQuestionsReader,
    labelled_from_feedback,
    split_queries,
)
from knowledge.adaptation.pairs import (
    TrainingPair,
    load_beir,
    mine_hard_negatives,
    pairs_from_labelled,
)
from knowledge.adaptation.train import TrainConfig, train_embedding_model
from knowledge.store import model_registry as records

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


def adapt(
    *, database: Any, settings: Any, beir_dir: str | None = None, split: str = "train",
    from_feedback: bool = False, config: TrainConfig | None = None, version: str | None = None,
    base_model: str | None = None, validation_fraction: float = 0.2, tolerance: float = 0.0,
    hard_negatives: int = 1, voted_questions: VotedQuestionsReader | None = None,
) -> AdaptReport:
    """Train a candidate on labels from BEIR files or from votes (``from_feedback``: the votes
    come from ``voted_questions(session)``, which the bot passes), gate it, register it."""
    if bool(beir_dir) == bool(from_feedback):
        raise ValueError("choose one label source: --from-feedback or --from DIR")
    if from_feedback and voted_questions is None:
        raise ValueError("learning from feedback needs a voted_questions reader")
    if beir_dir:
        labelled = load_beir(beir_dir, split=split)
        voted_negatives: dict[str, list[str]] = {}
        source = f"beir:{Path(beir_dir).name}/{split}"
    else:
        assert voted_questions is not None
        labelled, voted_negatives = labelled_from_feedback(database=database,
                                                           voted_questions=voted_questions)
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
