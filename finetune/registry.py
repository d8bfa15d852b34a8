"""Style model versions: naming, where they live, the promotion gate, activate and rollback.

Records are read and written through ``knowledge.store.model_registry``; this module decides.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from finetune.config import StyleConfig
from knowledge.store import model_registry as records
from knowledge.store.base import Database


def models_dir(config: StyleConfig) -> Path:
    return Path(config.data_dir) / "models" / "style"


def new_version(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"style-{stamp}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def score(metrics: dict[str, Any]) -> float | None:
    """The figure the gate compares: ROUGE-L of what users would see (guard applied)."""
    value = (metrics.get("effective") or {}).get("rouge_l")
    return float(value) if value is not None else None


def decide(metrics: dict[str, Any], *, active_score: float | None, margin: float) -> Decision:
    """Promote only a model that beats the drafts and the active model by ``margin``."""
    new = score(metrics)
    baseline = (metrics.get("baseline") or {}).get("rouge_l")
    if new is None or baseline is None or not metrics.get("n"):
        return Decision(False, "no test examples to judge it on; kept as a candidate")
    if new < baseline + margin:
        return Decision(False, f"ROUGE-L {new:.4f} does not beat the drafts' {baseline:.4f} by "
                               f"{margin:g}; kept as a candidate (an admin may still activate it)")
    if active_score is not None and new < active_score + margin:
        return Decision(False, f"ROUGE-L {new:.4f} does not beat the active model's "
                               f"{active_score:.4f} by {margin:g}; kept as a candidate")
    against = f" and the active model's {active_score:.4f}" if active_score is not None else ""
    return Decision(True, f"ROUGE-L {new:.4f} beats the drafts' {baseline:.4f}{against}")


def register(*, db: Database, version: str, base: str, path: Path, metrics: dict[str, Any]) -> None:
    with db.session() as s:
        records.add_style_model(session=s, version=version, base_model=base, path=str(path),
                                metrics=metrics)


def active(*, db: Database, scope: str | None = None) -> tuple[str, Path] | None:
    with db.session() as s:
        model = records.active_style_model(session=s, scope=scope)
        return (model.version, Path(model.path)) if model else None


def active_metrics(*, db: Database) -> tuple[str, Path, dict[str, Any]] | None:
    with db.session() as s:
        model = records.active_style_model(session=s)
        return (model.version, Path(model.path), dict(model.metrics)) if model else None


def activate(*, db: Database, version: str) -> str:
    with db.session() as s:
        model = records.activate_style_model(session=s, version=version)
        if not Path(model.path).is_dir():
            raise ValueError(f"style model {version} has no files at {model.path}; "
                             "train a new one or activate another version")
    return f"style model {version} is now active"


def rollback(*, db: Database) -> str:
    with db.session() as s:
        previous = records.rollback_style_model(session=s)
        version = previous.version if previous else None
    if version is None:
        return "rolled back: no style model is active now (answers are sent as drafted)"
    return f"rolled back: style model {version} is active again"


def list_versions(*, db: Database) -> list[dict[str, Any]]:
    with db.session() as s:
        rows = records.list_style_models(session=s)
        return [
            {"version": m.version, "status": m.status, "base_model": m.base_model,
             "created_at": m.created_at.isoformat() if m.created_at else None,
             "activated_at": m.activated_at.isoformat() if m.activated_at else None,
             "rouge_l": score(m.metrics),
             "baseline_rouge_l": (m.metrics.get("baseline") or {}).get("rouge_l"),
             "guard_pass_rate": (m.metrics.get("model") or {}).get("guard_pass_rate"),
             "path": m.path, "scope": m.scope}
            for m in rows
        ]
