"""Making a smaller vector space: fit (PCA on the active space's stored vectors), gate on
held-out labels, register. The vector math is ``knowledge.adaptation.vectors``; its names are
re-exported here for old imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.adaptation import gate as gating
from knowledge.adaptation import switch
from knowledge.adaptation.labels import VotedQuestionsReader, labelled_from_feedback, split_queries
from knowledge.adaptation.pairs import load_beir
from knowledge.adaptation.vectors import (
    STORAGES,
    PCAProjection,
    Reducer,
    Variant,
    fit_pca,
    to_half,
    truncate,
)
from knowledge.store import model_registry as records
from knowledge.store import spaces

__all__ = ["STORAGES", "PCAProjection", "ReduceReport", "create_reduced_space", "fit_pca", "to_half",
           "truncate"]


@dataclass
class ReduceReport:
    version: str
    status: str  # "candidate" or "rejected"
    gate: dict
    space: dict


def create_reduced_space(
    *, database: Any, settings: Any, pca: int | None = None, halfvec: bool = False,
    truncate_to: int | None = None, beir_dir: str | None = None, split: str = "train",
    from_feedback: bool = False, tolerance: float = 0.0, version: str | None = None,
    validation_fraction: float = 0.2, voted_questions: VotedQuestionsReader | None = None,
) -> ReduceReport:
    """Fit (PCA on the active space's stored vectors), gate on held-out labels, register.

    Registering does not switch: ``lorebot embeddings activate VERSION`` fills the new table
    (projecting the stored vectors, no model run) and switches.
    """
    if not (pca or halfvec or truncate_to):
        raise ValueError("nothing to do: pass --pca N, --truncate N and/or --halfvec")
    if pca and truncate_to:
        raise ValueError("choose PCA or truncation, not both")
    if bool(beir_dir) == bool(from_feedback):
        raise ValueError("the gate needs held-out labels: pass --from DIR or --from-feedback")
    if from_feedback and voted_questions is None:
        raise ValueError("gating on feedback needs a voted_questions reader")
    db = database
    with db.session() as session:
        switch.ensure_base_registered(session=session, settings=settings)
        current = switch.active_spec(session=session, settings=settings)
        if (pca or truncate_to) and (current.projection or current.truncate):
            raise ValueError(f"the active space {current.space.version} is already reduced; "
                             "reduce its full-dimension source instead")
        ids, stored = spaces.read_vectors(session=session, space=current.space)
    name_parts = [current.space.version]
    if pca:
        name_parts.append(f"pca{pca}")
    if truncate_to:
        name_parts.append(f"trunc{truncate_to}")
    if halfvec:
        name_parts.append("half")
    version = version or "-".join(name_parts)
    out = Path(settings.lorebot_data_dir) / "models" / "embeddings" / version
    projection_path: str | None = current.projection
    projection: PCAProjection | None = None
    if pca:
        if len(ids) < pca:
            raise ValueError(f"PCA to {pca} dimensions needs at least {pca} embedded chunks; the "
                             f"store has {len(ids)}. Ingest more first, or use --halfvec alone")
        projection = fit_pca(stored, pca)
        projection_path = str(projection.save(out / "pca.npz"))
    dims = pca or truncate_to or current.space.dimension
    spec = switch.SpaceSpec(
        space=spaces.VectorSpace(version, table=spaces.table_for(version),
                                 storage="halfvec" if halfvec else current.space.storage, dimension=dims),
        model_path=current.model_path, projection=projection_path,
        truncate=truncate_to or current.truncate, source_version=current.space.version,
    )
    # Score both on held-out questions: same model, vectors reduced (and rounded) or not.
    if beir_dir:
        labelled = load_beir(beir_dir, split=split)
        _, _, val = split_queries(labelled, validation_fraction=validation_fraction)
        doc_ids = sorted(labelled.corpus)
        enc = switch.encoder_for(current, settings)
        docs = enc.encode([labelled.corpus[d] for d in doc_ids])
    else:
        assert voted_questions is not None
        labelled, _ = labelled_from_feedback(database=database, voted_questions=voted_questions)
        _, _, val = split_queries(labelled, validation_fraction=validation_fraction)
        enc = switch.encoder_for(current, settings)
        doc_ids, docs = [str(i) for i in ids], stored
    queries = enc.encode([labelled.queries[q] for q in val])
    before = gating.evaluate_vectors(labelled=labelled, query_ids=val, query_vectors=queries,
                                     doc_ids=doc_ids, doc_vectors=docs)
    # ``docs`` and ``queries`` are already in the active space; only the new step is applied.
    shrink = Reducer(Variant(storage=spec.space.storage, pca=pca, truncate=truncate_to), projection)
    after = gating.evaluate_vectors(labelled=labelled, query_ids=val, query_vectors=shrink(queries),
                                    doc_ids=doc_ids, doc_vectors=shrink(docs))
    decision = gating.decide(before, after, tolerance=tolerance)
    status = "candidate" if decision.passed else "rejected"
    with db.session() as session:
        records.register_embedding_model(
            session=session, version=version, base_model=current.model_path, path=current.model_path,
            dimension=dims, status=status,
            metrics={"space": spec.to_json(), "gate": decision.to_json(),
                     "validation": {"current": before, "candidate": after,
                                    "current_version": current.space.version},
                     "explained_variance": projection.explained_variance if projection else None},
        )
    return ReduceReport(version=version, status=status, gate=decision.to_json(), space=spec.to_json())
