"""Smaller vectors: halfvec storage, PCA fitted on the corpus, Matryoshka-style truncation.

Every reduction returns unit-length rows again, so cosine search works unchanged. A PCA
projection is fitted on the corpus vectors (not the questions) and saved next to the space
so a query is projected exactly like the chunks it is compared with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

Storage = str  # "vector" (float32) or "halfvec" (float16)
STORAGES = ("vector", "halfvec")


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def to_half(vectors: np.ndarray) -> np.ndarray:
    """What halfvec storage keeps: each component rounded to float16 (then back, for numpy)."""
    return vectors.astype(np.float16).astype(np.float32)


def truncate(vectors: np.ndarray, dims: int) -> np.ndarray:
    """The first ``dims`` components, re-normalised (sound for Matryoshka-trained models)."""
    if not 1 <= dims <= vectors.shape[1]:
        raise ValueError(f"cannot truncate {vectors.shape[1]}-dimensional vectors to {dims}")
    return _unit(vectors[:, :dims])


@dataclass
class PCAProjection:
    mean: np.ndarray  # (d,)
    components: np.ndarray  # (k, d), rows orthonormal
    explained_variance: float  # fraction of the corpus variance the k components keep

    @property
    def dims(self) -> int:
        return int(self.components.shape[0])

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if vectors.shape[1] != self.components.shape[1]:
            raise ValueError(
                f"PCA was fitted on {self.components.shape[1]}-dimensional vectors, got "
                f"{vectors.shape[1]}; refit it for this embedding model"
            )
        return _unit((vectors - self.mean) @ self.components.T)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, mean=self.mean, components=self.components,
                 explained_variance=np.array(self.explained_variance))
        return path if path.suffix == ".npz" else path.with_suffix(path.suffix + ".npz")

    @classmethod
    def load(cls, path: str | Path) -> PCAProjection:
        if not Path(path).is_file():
            raise FileNotFoundError(f"PCA projection {path} does not exist; run `lorebot embeddings reduce`")
        data = np.load(path)
        return cls(mean=data["mean"], components=data["components"],
                   explained_variance=float(data["explained_variance"]))


def fit_pca(vectors: np.ndarray, dims: int) -> PCAProjection:
    """Principal components of the corpus vectors (SVD of the centred matrix)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    n, d = vectors.shape
    if not 1 <= dims < d:
        raise ValueError(f"PCA dimensions must be between 1 and {d - 1}, got {dims}")
    if n < dims:
        raise ValueError(f"PCA to {dims} dimensions needs at least {dims} chunks; the corpus has {n}")
    mean = vectors.mean(axis=0)
    _, s, vt = np.linalg.svd(vectors - mean, full_matrices=False)
    var = s**2
    return PCAProjection(mean=mean.astype(np.float32), components=vt[:dims].astype(np.float32),
                         explained_variance=float(var[:dims].sum() / var.sum()))


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
    validation_fraction: float = 0.2,
) -> ReduceReport:
    """Fit (PCA on the active space's stored vectors), gate on held-out labels, register.

    Registering does not switch: ``lorebot embeddings activate VERSION`` fills the new table
    (projecting the stored vectors, no model run) and switches.
    """
    from bot.db import embedding_training as records
    from knowledge.adaptation import gate as gating
    from knowledge.adaptation import switch
    from knowledge.adaptation.adapt import labelled_from_feedback, split_queries
    from knowledge.adaptation.compare import Reducer, Variant
    from knowledge.adaptation.pairs import load_beir
    from knowledge.store import spaces

    if not (pca or halfvec or truncate_to):
        raise ValueError("nothing to do: pass --pca N, --truncate N and/or --halfvec")
    if pca and truncate_to:
        raise ValueError("choose PCA or truncation, not both")
    if bool(beir_dir) == bool(from_feedback):
        raise ValueError("the gate needs held-out labels: pass --from DIR or --from-feedback")
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
        labelled, _ = labelled_from_feedback(database=database)
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
