"""Vector math of smaller spaces: halfvec rounding, PCA fitted on the corpus, Matryoshka-style
truncation, and the Variant/Reducer that compose them (no database, no workflow).

Every reduction returns unit-length rows again, so cosine search works unchanged. A PCA
projection is fitted on the corpus vectors (not the questions) and saved next to the space
so a query is projected exactly like the chunks it is compared with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.store import spaces

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


_PART = re.compile(r"^(halfvec|pca(\d+)|trunc(\d+))$")


@dataclass(frozen=True)
class Variant:
    """One way to store the vectors: ``storage`` and an optional dimension reduction."""

    storage: str = "vector"
    pca: int | None = None
    truncate: int | None = None

    def __post_init__(self) -> None:
        if self.storage not in spaces.STORAGES:
            raise ValueError(f"vector storage must be one of {', '.join(spaces.STORAGES)}")
        if self.pca and self.truncate:
            raise ValueError("choose PCA or truncation, not both")
        for n in (self.pca, self.truncate):
            if n is not None and n < 1:
                raise ValueError("reduced dimensions must be at least 1")

    @property
    def name(self) -> str:
        parts = [f"pca{self.pca}"] if self.pca else []
        parts += [f"trunc{self.truncate}"] if self.truncate else []
        parts += ["halfvec"] if self.storage == "halfvec" else []
        return "+".join(parts) or "full"

    @property
    def is_full(self) -> bool:
        return self.storage == "vector" and not self.pca and not self.truncate

    @classmethod
    def parse(cls, spec: str) -> Variant:
        """``halfvec``, ``pca256``, ``trunc128``, or a ``+``-joined pair such as ``pca256+halfvec``."""
        storage, pca, trunc = "vector", None, None
        for part in filter(None, (p.strip().lower() for p in spec.split("+"))):
            m = _PART.match(part)
            if not m:
                raise ValueError(f"unknown vector space {spec!r}: use halfvec, pcaN, truncN, "
                                 "or two of them joined with + (e.g. pca256+halfvec)")
            if part == "halfvec":
                storage = "halfvec"
            elif m.group(2):
                pca = int(m.group(2))
            else:
                trunc = int(m.group(3))
        return cls(storage=storage, pca=pca, truncate=trunc)

    @classmethod
    def from_settings(cls, settings: Any) -> Variant:
        """The reduction the settings ask for (``EMBEDDING_STORAGE``, ``EMBEDDING_DIMENSIONS``,
        ``EMBEDDING_REDUCTION``); ``full`` when they ask for none."""
        dims = int(settings.embedding_dimensions or 0) or None
        method = settings.embedding_reduction
        return cls(storage=settings.embedding_storage,
                   pca=dims if method == "pca" else None,
                   truncate=dims if method == "truncate" else None)


@dataclass
class Reducer:
    """Turns full vectors into a variant's vectors (the PCA is fitted on the corpus)."""

    variant: Variant
    projection: PCAProjection | None = None

    @classmethod
    def fit(cls, variant: Variant, corpus: np.ndarray) -> Reducer:
        if variant.pca:
            if variant.pca >= corpus.shape[1]:
                raise ValueError(f"PCA to {variant.pca} dimensions: the vectors only have "
                                 f"{corpus.shape[1]}")
            return cls(variant, fit_pca(corpus, variant.pca))
        if variant.truncate and variant.truncate >= corpus.shape[1]:
            raise ValueError(f"truncating to {variant.truncate}: the vectors only have {corpus.shape[1]}")
        return cls(variant)

    @property
    def dimension(self) -> int | None:
        return self.variant.pca or self.variant.truncate

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if self.projection is not None:
            x = self.projection.apply(x)
        elif self.variant.truncate:
            x = truncate(x, self.variant.truncate)
        return to_half(x) if self.variant.storage == "halfvec" else x
