"""What the fine-tuning library needs from its caller: a small config and a feedback reader.

The library never reads the bot's settings or its interaction/feedback tables; the bot builds a
:class:`StyleConfig` from its settings and passes a :class:`FeedbackReader` over its records
(``bot.style`` does both).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from finetune.dataset import LabelledInteraction
from knowledge.redaction import RedactionConfig


@dataclass(frozen=True)
class StyleConfig:
    """STYLE_* settings and where models live (``<data_dir>/models/style``)."""

    data_dir: Path
    enabled: bool = True  # STYLE_MODEL_ENABLED
    base_model: str | None = None  # STYLE_BASE_MODEL
    kto_min_negatives: int = 20
    promotion_margin: float = 0.011
    retrain_min_examples: int = 50
    redaction: RedactionConfig = field(default_factory=RedactionConfig)


class FeedbackReader(Protocol):
    """Reads the answers people voted on or corrected, from wherever the caller keeps them."""

    def labelled_interactions(self, *, session: Session) -> list[LabelledInteraction]: ...

    def count_labelled_since(self, *, session: Session, since: datetime | None) -> int: ...
