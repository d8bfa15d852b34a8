"""The style model as the bot uses it: ``finetune.api`` and ``finetune.runtime`` composed with
the bot's settings, its feedback records and its metrics.

Same names and keyword arguments as before the fine-tuning library stopped importing the bot
(``train(settings=..., db=...)``), so the CLI, the admin commands and the scheduler call these.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bot import metrics
from bot.configs import redaction_config
from bot.db import training as feedback_records
from bot.db.session import Database
from bot.settings import Settings
from finetune import api
from finetune.api import NoTrainingData, TrainResult
from finetune.config import StyleConfig
from finetune.dataset import DatasetReport
from finetune.runtime import RUNTIME, StyleResult, rejection_label

log = logging.getLogger(__name__)

__all__ = ["NoTrainingData", "TrainResult", "activate", "apply_style", "build_dataset",
           "count_rejection", "list_versions", "maybe_retrain", "rollback", "status", "style_config",
           "train"]


def style_config(settings: Settings) -> StyleConfig:
    return StyleConfig(
        data_dir=Path(settings.lorebot_data_dir), enabled=settings.style_model_enabled,
        base_model=settings.style_base_model, kto_min_negatives=settings.style_kto_min_negatives,
        promotion_margin=settings.style_promotion_margin,
        retrain_min_examples=settings.style_retrain_min_examples,
        redaction=redaction_config(settings),
    )


def build_dataset(*, settings: Settings, db: Database) -> DatasetReport:
    return api.build_dataset(config=style_config(settings), db=db, feedback=feedback_records)


def train(*, settings: Settings, db: Database, **kw: Any) -> TrainResult:
    return api.train(config=style_config(settings), db=db, feedback=feedback_records, **kw)


def status(*, settings: Settings, db: Database) -> str:
    return api.status(config=style_config(settings), db=db, feedback=feedback_records)


def maybe_retrain(*, settings: Settings, db: Database) -> TrainResult | None:
    return api.maybe_retrain(config=style_config(settings), db=db, feedback=feedback_records)


def list_versions(*, db: Database) -> list[dict[str, Any]]:
    return api.list_versions(db=db)


def activate(*, db: Database, version: str) -> str:
    return api.activate(db=db, version=version)


def rollback(*, db: Database) -> str:
    return api.rollback(db=db)


def count_rejection(reason: str, kind: str | None = None) -> None:
    """Count a guard rejection in the Prometheus registry that ``/metrics`` serves, labelled by
    the guard's kind of change (a small fixed set), else by the reason's first words."""
    try:
        metrics.STYLE_REJECTIONS.labels(reason=kind or rejection_label(reason)).inc()
    except Exception:  # metrics must never break an answer
        log.debug("style rejection not counted", exc_info=True)


def apply_style(*, settings: Settings, db: Database, draft: str, question: str,
                passages: list[str], channel: Any) -> StyleResult:
    """The draft reshaped by the active style model (or the draft), rejections counted."""
    result = RUNTIME.apply(enabled=settings.style_model_enabled, db=db, draft=draft,
                           question=question, passages=passages, channel=channel)
    if result.rejected:
        count_rejection(result.rejected, result.kind)
    return result
