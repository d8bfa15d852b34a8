"""Which runtime and precision made the stored vectors, so two CPUs never mix them silently.

``EMBEDDING_PRECISION=auto`` may pick bf16 on a CPU with native bf16 and fp32 on one without
(knowledge/embedding_runtime.py). bf16 vectors are close to fp32 ones (cosine >= 0.999) but
not the same numbers, and the embedding cache keys them apart. So the store records the
*fingerprint* of the vectors it holds (model | dimension | precision; ONNX fp32 and PyTorch
fp32 share one, they are equal to 1e-7) and the choice behind it. A writer with another
fingerprint is refused (its chunks would sit next to vectors of another precision); a reader
gets a warning (a question's vector at cosine 0.999 ranks almost the same) saying what to set.
"""

from __future__ import annotations

import json
import logging
import platform
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from knowledge.store.meta import REEMBED_HINT, EmbeddingModelMismatch

log = logging.getLogger(__name__)

FINGERPRINT_KEY = "embedding_fingerprint"
CHOICE_KEY = "embedding_choice"  # JSON: runtime, precision, reason, host


class VectorFingerprintMismatch(EmbeddingModelMismatch):
    """This process would write vectors of another precision than the stored ones."""


@dataclass(frozen=True)
class StoredVectors:
    fingerprint: str
    runtime: str
    precision: str
    reason: str
    host: str

    @property
    def label(self) -> str:
        return f"{self.runtime} {self.precision}"


def _upsert(session: Session, key: str, value: str) -> None:
    session.execute(text(
        "INSERT INTO lorebot_meta (key, value) VALUES (:k, :v) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()"
    ), {"k": key, "v": value})


def stored_vectors(*, session: Session) -> StoredVectors | None:
    rows = dict(session.execute(
        text("SELECT key, value FROM lorebot_meta WHERE key IN (:f, :c)"),
        {"f": FINGERPRINT_KEY, "c": CHOICE_KEY},
    ).all())
    if FINGERPRINT_KEY not in rows:
        return None
    try:
        choice = json.loads(rows.get(CHOICE_KEY) or "{}")
    except ValueError:
        choice = {}
    precision = rows[FINGERPRINT_KEY].rsplit("|", 1)[-1]
    return StoredVectors(rows[FINGERPRINT_KEY], str(choice.get("runtime", "?")),
                         str(choice.get("precision", precision)), str(choice.get("reason", "")),
                         str(choice.get("host", "?")))


def fingerprint_of(embedder: Any) -> str:
    """An :class:`~knowledge.embeddings.Embedder`'s fingerprint; for a wrapper or test double
    without one, the same form from its name, dimension and ``model_id`` (``name@bf16``)."""
    found = getattr(embedder, "fingerprint", None)
    if isinstance(found, str):
        return found
    model_id = str(getattr(embedder, "model_id", embedder.name))
    precision = model_id.rsplit("@", 1)[1] if "@" in model_id else "fp32"
    return f"{embedder.name}|{embedder.dimension}|{precision}"


def _precision(embedder: Any) -> str:
    return fingerprint_of(embedder).rsplit("|", 1)[-1]


def record_vectors(*, session: Session, embedder: Any) -> None:
    """Record what ``embedder`` (an :class:`~knowledge.embeddings.Embedder`) makes."""
    choice = getattr(embedder, "choice", None)
    _upsert(session, FINGERPRINT_KEY, fingerprint_of(embedder))
    _upsert(session, CHOICE_KEY, json.dumps({
        "runtime": getattr(embedder, "runtime", "?"), "precision": _precision(embedder),
        "reason": getattr(choice, "reason", "")[:2000], "host": platform.node(),
    }))


def mismatch_message(stored: StoredVectors, embedder: Any) -> str:
    return (
        f"the stored vectors are {stored.fingerprint} (made with {stored.label} on {stored.host}) "
        f"but this process makes {fingerprint_of(embedder)} ({getattr(embedder, 'runtime', '?')} "
        f"{_precision(embedder)}: "
        f"{getattr(getattr(embedder, 'choice', None), 'reason', 'as configured')[:300]}). "
        f"Set EMBEDDING_PRECISION={stored.precision} (an explicit setting wins over auto) to "
        f"match them, or run `{REEMBED_HINT}` to re-embed every chunk in {_precision(embedder)}"
    )


def check_vectors(*, session: Session, embedder: Any, writing: bool) -> str | None:
    """Compare ``embedder``'s fingerprint with the store's.

    Writing with another fingerprint raises :class:`VectorFingerprintMismatch`; reading
    returns the warning (also logged) and goes on. A store with vectors but no fingerprint
    yet (made before fingerprints were recorded) takes the first writer's.
    """
    stored = stored_vectors(session=session)
    if stored is None:
        if writing:
            record_vectors(session=session, embedder=embedder)
        return None
    if stored.fingerprint == fingerprint_of(embedder):
        return None
    message = mismatch_message(stored, embedder)
    if writing:
        raise VectorFingerprintMismatch(message)
    log.warning("%s", message)
    return message
