"""Which vector space retrieval reads, and what a space is: a model version plus where its
vectors live (``knowledge.store.spaces``) and how text becomes one of them.

Every question looks the active space up here, in the same transaction as its search; nothing
here trains, re-embeds or switches (that is ``knowledge.adaptation.switch``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from knowledge.store import model_registry as records
from knowledge.store import spaces
from knowledge.store.spaces import VectorSpace

BASE_VERSION = "base"


class SwitchError(ValueError):
    """A switch-over cannot happen; the message says why and what to do."""


@dataclass(frozen=True)
class SpaceSpec:
    """A version's vector space and how to turn text into its vectors."""

    space: VectorSpace
    model_path: str
    projection: str | None = None  # PCA .npz
    truncate: int | None = None  # Matryoshka-style prefix length
    source_version: str | None = None  # the space a reduction was derived from

    def to_json(self) -> dict[str, Any]:
        return {"table": self.space.table, "column": self.space.column,
                "storage": self.space.storage, "dimension": self.space.dimension,
                "model_path": self.model_path, "projection": self.projection,
                "truncate": self.truncate, "source_version": self.source_version}


def base_spec(settings: Any) -> SpaceSpec:
    from knowledge.embeddings import model_dimension

    dim = model_dimension(settings.embedding_model)
    return SpaceSpec(space=VectorSpace(BASE_VERSION, dimension=dim), model_path=settings.embedding_model)


def spec_from_row(row: Any) -> SpaceSpec:
    info = (row.metrics or {}).get("space") or {}
    table = info.get("table") or spaces.table_for(row.version)
    return SpaceSpec(
        space=VectorSpace(row.version, table=table, column=info.get("column", "embedding"),
                          storage=info.get("storage", "vector"),
                          dimension=int(info.get("dimension") or row.dimension)),
        model_path=info.get("model_path") or row.path, projection=info.get("projection"),
        truncate=info.get("truncate"), source_version=info.get("source_version"),
    )


def ensure_base_registered(*, session: Any, settings: Any) -> None:
    """Give the original model its row, so it can be listed, compared and rolled back to."""
    if records.get_embedding_model(session=session, version=BASE_VERSION) is None:
        spec = base_spec(settings)
        active = records.active_version(session=session) in (None, BASE_VERSION)
        records.register_embedding_model(
            session=session, version=BASE_VERSION, base_model=settings.embedding_model,
            path=settings.embedding_model, dimension=spec.space.dimension,
            metrics={"space": spec.to_json()}, status="active" if active else "retired",
        )


def spec_for(*, session: Any, settings: Any, version: str) -> SpaceSpec:
    if version == BASE_VERSION:
        return base_spec(settings)
    row = records.get_embedding_model(session=session, version=version)
    if row is None:
        raise SwitchError(f"no embedding model version {version!r}; see `lorebot embeddings list`")
    return spec_from_row(row)


def active_spec(*, session: Any, settings: Any) -> SpaceSpec:
    version = records.active_version(session=session)
    return spec_for(session=session, settings=settings, version=version or BASE_VERSION)


