"""Train, status, list, activate, rollback and maybe_retrain. Each takes the config, the
database and (where it reads votes) a feedback reader explicitly; ``bot.style`` composes them from
the bot's settings and records for the CLI, the admin commands and the scheduler.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finetune import registry
from finetune.config import FeedbackReader, StyleConfig
from finetune.dataset import DatasetReport, build_examples, default_redactor
from finetune.train import Notify, TrainConfig
from knowledge.store import model_registry as records
from knowledge.store.base import Database

log = logging.getLogger(__name__)


class NoTrainingData(ValueError):
    """Not enough approved answers to train and fairly test a style model."""


@dataclass
class TrainResult:
    version: str
    path: Path
    plot: Path
    promoted: bool
    decision: str
    metrics: dict[str, Any]
    dataset: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        m = self.metrics
        return (f"style model {self.version} {'ACTIVE' if self.promoted else 'candidate'}: "
                f"{self.decision}. test ROUGE-L {m['effective']['rouge_l']:.4f} (raw "
                f"{m['model']['rouge_l']:.4f}, drafts {m['baseline']['rouge_l']:.4f}), guard pass "
                f"{m['model']['guard_pass_rate']:.0%} on {m['n']} examples. Loss plot: {self.plot}")


def build_dataset(*, config: StyleConfig, db: Database, feedback: FeedbackReader) -> DatasetReport:
    with db.session() as s:
        items = feedback.labelled_interactions(session=s)
    return build_examples(items, redactor=default_redactor(emails=config.redaction.redact_emails,
                                                           phones=config.redaction.redact_phones))


def _check_enough(report: DatasetReport) -> None:
    sizes = {name: len(report.split(name, "good")) for name in ("train", "validation", "test")}
    if not report.examples:
        raise NoTrainingData(
            "no feedback to learn from yet: react 👍/👎 to answers or correct one with "
            "`correct INTERACTION_ID TEXT`, then train again (no model was created)")
    if min(sizes.values()) == 0:
        raise NoTrainingData(
            f"not enough approved answers to train and test a style model: train {sizes['train']}"
            f", validation {sizes['validation']}, test {sizes['test']} (each needs at least one; "
            "about 1 in 10 lands in each held-out split). Collect more 👍 votes or corrections "
            "(no model was created)")


def _active_score(*, db: Database, report: DatasetReport) -> float | None:
    """The active model re-scored on today's test split, so the comparison is like for like."""
    from finetune.evaluate import evaluate
    from finetune.model import Rewriter

    current = registry.active_metrics(db=db)
    if current is None:
        return None
    version, path, stored = current
    try:
        rewriter = Rewriter.load(path)
    except Exception as exc:
        log.warning("active style model %s cannot be loaded (%s); using its stored score",
                    version, exc)
        return registry.score(stored)
    metrics = evaluate(report.split("test"), lambda e: rewriter.rewrite(e.question, e.draft))
    return registry.score(metrics)


def train(*, config: StyleConfig, db: Database, feedback: FeedbackReader, base: str | None = None,
          epochs: int | None = None,
          lr: float | None = None, lora: bool | None = None, max_steps: int | None = None,
          notify: Notify | None = None, progress: bool | None = None) -> TrainResult:
    """Build the dataset, fine-tune, evaluate on the test split, register, and promote if it
    passes the gate. Raises NoTrainingData (nothing registered) when feedback is too thin."""
    from finetune.evaluate import evaluate
    from finetune.model import Rewriter, check_base
    from finetune.train import train_style_model

    say = notify or (lambda msg: None)
    base = base or config.base_model
    if base:
        check_base(base)
    report = build_dataset(config=config, db=db, feedback=feedback)
    _check_enough(report)
    say("dataset: " + report.describe().replace("\n", "; "))
    cfg = TrainConfig(base=base, epochs=epochs or 3, lr=lr,
                      lora=lora, max_steps=max_steps, progress=progress,
                      kto_min_negatives=config.kto_min_negatives)
    version = registry.new_version()
    root = registry.models_dir(config)
    out_dir, work_dir = root / version, root / f".work-{version}"
    try:
        trained = train_style_model(report, out_dir=out_dir, version=version, cfg=cfg,
                                    work_dir=work_dir, notify=say)
        say(f"evaluating {version} on {len(report.split('test', 'good'))} held-out examples")
        rewriter = Rewriter.load(out_dir)
        metrics = evaluate(report.split("test"), lambda e: rewriter.rewrite(e.question, e.draft))
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)  # no half-written model left behind
        raise
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    metrics["training"] = {
        "kind": trained.kind, "lora": trained.lora, "steps": trained.steps,
        "seconds": round(trained.seconds, 2), "best_eval_loss": trained.best_eval_loss,
        "kto": trained.kto, "plot": str(trained.plot),
        "eval_loss": [h["eval_loss"] for h in trained.history if "eval_loss" in h],
    }
    metrics["dataset"] = report.summary()
    registry.register(db=db, version=version, base=trained.base, path=out_dir, metrics=metrics)
    decision = registry.decide(metrics, active_score=_active_score(db=db, report=report),
                               margin=config.promotion_margin)
    if decision.promote:
        registry.activate(db=db, version=version)
        _invalidate()
    result = TrainResult(version=version, path=out_dir, plot=trained.plot,
                         promoted=decision.promote, decision=decision.reason, metrics=metrics,
                         dataset=report.summary())
    log.info("style model trained", extra={"version": version, "promoted": decision.promote})
    say(str(result))
    return result


def _invalidate() -> None:
    from finetune.runtime import RUNTIME

    RUNTIME.invalidate()


def status(*, config: StyleConfig, db: Database, feedback: FeedbackReader) -> str:
    with db.session() as s:
        active = records.active_style_model(session=s)
        latest = records.latest_style_model(session=s)
        since = latest.created_at if latest else None
        pending = feedback.count_labelled_since(session=s, since=since)
        lines = []
        if active is None:
            lines.append("no style model is active (answers are sent as drafted)")
        else:
            sc = registry.score(active.metrics)
            lines.append(f"active style model: {active.version} (base {active.base_model}, "
                         f"test ROUGE-L {sc if sc is not None else '-'}, activated "
                         f"{active.activated_at:%Y-%m-%d %H:%M} UTC)")
        if latest is not None and (active is None or latest.id != active.id):
            lines.append(f"latest version: {latest.version} ({latest.status})")
    lines.append(f"{pending} labelled answers since the last training; retraining starts at "
                 f"{config.retrain_min_examples}")
    if not config.enabled:
        lines.append("STYLE_MODEL_ENABLED is false: the style model is not applied")
    return "\n".join(lines)


def list_versions(*, db: Database) -> list[dict[str, Any]]:
    return registry.list_versions(db=db)


def activate(*, db: Database, version: str) -> str:
    message = registry.activate(db=db, version=version)
    _invalidate()
    return message


def rollback(*, db: Database) -> str:
    message = registry.rollback(db=db)
    _invalidate()
    return message


def maybe_retrain(*, config: StyleConfig, db: Database, feedback: FeedbackReader
                  ) -> TrainResult | None:
    """Train when enough new labelled answers came in since the last model; else None."""
    with db.session() as s:
        latest = records.latest_style_model(session=s)
        pending = feedback.count_labelled_since(session=s, since=latest.created_at if latest else None)
    if pending < config.retrain_min_examples:
        log.debug("style retraining not due: %d of %d new labelled answers", pending,
                  config.retrain_min_examples)
        return None
    try:
        return train(config=config, db=db, feedback=feedback, progress=False)
    except NoTrainingData as exc:
        log.info("style retraining skipped: %s", exc)
        return None
