"""``lorebot eval answers DIR``: ask labelled questions through the bot's answering service.

The corpus is ingested (``corpus.jsonl`` as the ``jsonl`` source kind reads it) into its own
collection, reused while unchanged, and every question goes through ``AnsweringService`` exactly
as a chat message would. A thin wrapper around the service's synthesiser records which passages
it was handed (the retrieval ceiling needs them) and the answerability score; it changes nothing
it passes on. Metrics live in ``knowledge.answer_eval``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from knowledge.answer_eval import Outcome, QAData, load_qa, summarise, tradeoff_curve


class RecordingSynthesizer:
    """Delegates to the real synthesiser; keeps the last call's passages and result."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.last_passages: list[Any] = []
        self.last_result: Any = None

    def __getattr__(self, item: str) -> Any:
        return getattr(self.inner, item)

    def synthesize(self, question: str, passages: Sequence[Any]) -> Any:
        self.last_passages = list(passages)
        self.last_result = self.inner.synthesize(question, passages)
        return self.last_result


def ingest_corpus(*, settings: Any, db: Any, folder: Path, progress: bool) -> str:
    """The folder's corpus in collection ``eval-answers-<folder>`` (incremental: unchanged
    paragraphs are not embedded again)."""
    from bot.cli.common import eval_collection_name
    from bot.db import sources as sources_db
    from bot.ingest import ingest_source

    name = eval_collection_name(folder, prefix="eval-answers")
    location = str((folder / "corpus.jsonl").resolve())
    with db.session() as s:
        if sources_db.get_source(session=s, name=name) is None:
            sources_db.create_source(session=s, name=name, kind="jsonl", location=location,
                                     collection=name)
    result = ingest_source(db=db, settings=settings, name=name, progress=progress)
    if result.status in ("failed", "busy"):
        raise ValueError(f"ingesting the evaluation corpus failed: {result.summary()}")
    return name


def ask_all(*, service: Any, recorder: RecordingSynthesizer, data: QAData, questions: Sequence[Any],
            collection: str, progress: bool, keep_passages: bool = False
            ) -> tuple[list[Outcome], list[list[Any]]]:
    """One :class:`Outcome` per question (and, if asked, the passages each one was given)."""
    from bot.types import Actor, ChannelRef

    by_url = {p.url: pid for pid, p in data.paragraphs.items() if p.url}
    channel, asker = ChannelRef("cli", "eval-answers"), Actor("cli", "eval-answers")
    outcomes: list[Outcome] = []
    kept: list[list[Any]] = []
    it: Any = questions
    if progress:
        from tqdm import tqdm

        it = tqdm(questions, desc="questions", unit="q")
    for q in it:
        recorder.last_passages, recorder.last_result = [], None
        a = service.answer(q.question, channel=channel, thread=None, asker=asker,
                           collections=[collection])
        cited = [by_url.get(c.uri, c.uri) for c in a.citations]
        given = [p.text for p in recorder.last_passages]
        if not given:  # abstained before synthesis: the closest sources it listed
            given = [data.paragraphs[c].text for c in cited if c in data.paragraphs]
        top = data.paragraphs[cited[0]].text if cited and cited[0] in data.paragraphs else ""
        res = recorder.last_result
        outcomes.append(Outcome(
            question=q, text=a.text, abstained=a.abstained, cited_paragraphs=cited,
            retrieved_texts=given, top_paragraph_text=top,
            timings_ms={k: round(v, 3) for k, v in a.timings_ms.items()},
            confidence=getattr(res, "confidence", None) if res is not None else None))
        if keep_passages:
            kept.append(recorder.last_passages)
    return outcomes, kept


def run_answers_eval(*, settings: Any, db: Any, folder: Path, split: str = "all",
                     limit: int | None = None, progress: bool = False, plot: Path | None = None,
                     keep_passages: bool = False) -> dict[str, Any]:
    """Ingest, ask every selected question, and summarise (see ``knowledge.answer_eval``)."""
    from bot.answering.service import AnsweringService

    data = load_qa(folder)
    questions = data.select(split)[: limit or None]
    collection = ingest_corpus(settings=settings, db=db, folder=folder, progress=progress)
    service = AnsweringService.from_settings(settings, db)
    recorder = RecordingSynthesizer(service.synthesizer)
    service.synthesizer = recorder
    service.embedder.embed_query("warm up")  # the first call pays for lazy initialisation
    outcomes, passages = ask_all(service=service, recorder=recorder, data=data,
                                 questions=questions, collection=collection, progress=progress,
                                 keep_passages=keep_passages)
    report = {
        "dataset": str(folder), "split": split, "collection": collection,
        "synthesis": recorder.name,
        "settings": {k: getattr(settings, k) for k in (
            "llm_provider", "answer_reader", "answer_reader_min_score",
            "answer_reader_candidates", "answer_contradictions", "abstain_threshold",
            "answer_min_support", "answer_extra_margin",
            "answer_max_sentences", "answer_max_words", "retrieval_top_k")},
        **summarise(outcomes),
        "tradeoff": tradeoff_curve(outcomes),
    }
    if plot is not None:
        from bot.cli.answer_plot import write_plot

        report["plot"] = str(write_plot(outcomes, report, plot))
    report["_outcomes"] = outcomes
    report["_passages"] = passages
    return report
