"""Which synthesizer answers: extractive, or an LLM that falls back to extractive.

Separate from the package's types so that ``llm`` and ``extractive`` import the package and the
package imports neither (no import circle).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from knowledge.synthesis import Synthesizer
from knowledge.synthesis.extractive import ExtractiveSynthesizer
from knowledge.synthesis.llm import LLMConfig, LLMSynthesizer
from knowledge.synthesis.reader import AnswerReader, ReaderPolicy, resolve_reader

_READERS: dict[Path, AnswerReader] = {}
_READERS_LOCK = threading.Lock()


def shared_reader(folder: Path) -> AnswerReader:
    """One loaded reader per folder per process: every answering service (one per collection
    set, the CLI, the eval) shares its weights."""
    key = folder.resolve()
    with _READERS_LOCK:
        if key not in _READERS:
            _READERS[key] = AnswerReader.load(key)
        return _READERS[key]

Embed = Callable[[Sequence[str]], Any]  # texts -> unit vectors (the retriever's Embedder.embed)


def build_synthesizer(llm: LLMConfig, *, max_sentences: int, embed: Embed | None = None,
                      min_support: float = 0.377, extra_margin: float = 1.5,
                      max_words: int = 80, reader: str = "off",
                      reader_min_score: float | None = None,
                      reader_candidates: int | None = None,
                      contradictions: bool | None = None) -> Synthesizer:
    """The extractive synthesizer, or an LLM one that falls back to it (provider ``extractive``:
    no LLM at all). ``reader`` (``builtin``, ``off`` or a folder) picks the answer reader that
    decides which sentence answers; without it ``embed`` lets the extractive answer compare
    sentences with the question (without either, terms and rank decide). The thresholds are
    calibrated (benchmarks/ANSWERS.md)."""
    folder = resolve_reader(reader)
    read, policy = None, None
    if folder is not None:
        loaded = shared_reader(folder)
        read, policy = loaded.score, loaded.policy()
        if reader_min_score is not None:
            policy = replace(policy, min_score=reader_min_score)
        if reader_candidates is not None:
            policy = replace(policy, candidates=reader_candidates)
    if contradictions is not None:
        # also read without a reader: its term-scored answer applies the same check
        policy = replace(policy or ReaderPolicy(), contradictions=contradictions)
    extractive = ExtractiveSynthesizer(max_sentences=max_sentences, embed=embed,
                                       min_support=min_support, extra_margin=extra_margin,
                                       max_words=max_words, reader=read, reader_policy=policy)
    if llm.provider == "extractive":
        return extractive
    return LLMSynthesizer.from_config(llm, fallback=extractive)
