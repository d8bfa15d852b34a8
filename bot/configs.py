"""The libraries' small typed configs, built from :class:`bot.settings.Settings`.

``knowledge`` and ``finetune`` never read Settings; the bot composes what each needs here, so a
setting's name and its meaning to a library are mapped in one place.
"""

from __future__ import annotations

from typing import Any

from bot.settings import Settings
from knowledge.cleaning import CleaningConfig
from knowledge.pipeline import PipelineConfig
from knowledge.redaction import RedactionConfig
from knowledge.synthesis import Synthesizer
from knowledge.synthesis.factory import build_synthesizer
from knowledge.synthesis.llm import LLMConfig


def redaction_config(settings: Settings) -> RedactionConfig:
    return RedactionConfig(redact_emails=settings.redact_emails, redact_phones=settings.redact_phones)


def cleaning_config(settings: Settings) -> CleaningConfig:
    return CleaningConfig(redaction=redaction_config(settings))


def llm_config(settings: Settings) -> LLMConfig:
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    return LLMConfig(provider=settings.llm_provider, model=settings.llm_model, api_key=key,
                     api_base=settings.llm_api_base, timeout_s=settings.llm_timeout_s)


def synthesizer_from_settings(settings: Settings, *, embed: Any = None) -> Synthesizer:
    """The configured synthesizer (LLM_PROVIDER, ANSWER_*); ``embed`` (texts -> unit vectors,
    the answering service's embedder) lets the extractive answer score sentences by meaning."""
    return build_synthesizer(llm_config(settings), max_sentences=settings.answer_max_sentences,
                             embed=embed, min_support=settings.answer_min_support,
                             extra_margin=settings.answer_extra_margin,
                             max_words=settings.answer_max_words,
                             reader=settings.answer_reader,
                             reader_min_score=settings.answer_reader_min_score,
                             reader_candidates=settings.answer_reader_candidates,
                             contradictions=settings.answer_contradictions)


def pipeline_config(settings: Settings) -> PipelineConfig:
    return PipelineConfig(chunk_size_tokens=settings.chunk_size_tokens,
                          chunk_overlap_tokens=settings.chunk_overlap_tokens,
                          cleaning=cleaning_config(settings),
                          max_delete_fraction=settings.ingest_max_delete_fraction)
