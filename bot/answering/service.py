"""``AnsweringService``: a question in, a grounded answer with its sources out.

Stages (each timed): condense a follow-up into a standalone question, embed it, search the
channel's allowed collections (vector + full-text fused in SQL), build passages (dedupe, merge
neighbours, optional re-rank), decide whether the evidence is good enough, synthesise an answer
with ``[n]`` markers, optionally restyle it, and log the interaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from bot.answering.abstention import ABSTAIN_TEXT, NO_SOURCES_TEXT, evidence, should_abstain
from bot.answering.condense import condense
from bot.configs import synthesizer_from_settings
from bot.db import interactions as interactions_db
from bot.db.scopes import allowed_collections
from bot.db.session import Database
from bot.settings import Settings
from bot.types import Actor, Answer, ChannelRef, Citation
from knowledge.passages import Passage, build_passages
from knowledge.store.search import SearchHit, chunk_count, existing_collections
from knowledge.synthesis import StreamingSynthesizer, Synthesizer, TextSink, renumber

log = logging.getLogger(__name__)

# Longer questions are cut for embedding and search (the embedder reads ~256 tokens anyway).
MAX_QUERY_CHARS = 2000
SNIPPET_CHARS = 240
CLOSEST_SOURCES = 3


def _heading_below_title(heading: str, title: str) -> str:
    """A document's top heading usually repeats its title; cite only the part below it."""
    parts = [h.strip() for h in heading.split(" > ") if h.strip()]
    while parts and title and parts[0].casefold() == title.strip().casefold():
        parts.pop(0)
    return " > ".join(parts)


def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


class AnsweringService:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        embedder: Any,
        synthesizer: Synthesizer,
        reranker: Any | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.embedder = embedder
        self.synthesizer = synthesizer
        self.reranker = reranker

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> AnsweringService:
        from bot.answering.query_memo import QueryVectorMemo
        from knowledge.embeddings import embedder_from_settings
        from knowledge.rerank import reranker_from_settings
        from knowledge.store.vector_facts import check_vectors

        # One question vector for the retriever and the sentence comparison (query_memo.py).
        embedder = QueryVectorMemo(embedder_from_settings(settings))
        with db.session() as session:  # another CPU's precision: warn (and say what to set)
            check_vectors(session=session, embedder=embedder, writing=False)
        return cls(settings=settings, db=db, embedder=embedder,
                   synthesizer=synthesizer_from_settings(settings, embed=embedder.embed),
                   reranker=reranker_from_settings(settings))

    # --- public ---
    def answer(
        self, question: str, *, channel: ChannelRef, thread: str | None, asker: Actor,
        collections: Sequence[str] | None = None, on_text: TextSink | None = None,
    ) -> Answer:
        """Answer ``question`` from the collections this channel may search.

        ``collections`` overrides the channel scope (the local CLI uses it; chat never does).
        ``on_text`` receives the answer's text as a model writes it (LLM providers only). It is
        a draft: the returned ``Answer`` (``streamed`` True) carries the checked (and, with a
        style model, restyled) text the surface must end with, replacing what it showed.
        """
        t_start = time.perf_counter()
        timings: dict[str, float] = {}
        question = (question or "").strip()
        if not question:
            return Answer(text="Please ask a question, e.g. “How do I deploy to production?”",
                          citations=[], abstained=True, interaction_id=None, question="",
                          notice="empty question")
        notice = None
        query = question
        if len(query) > MAX_QUERY_CHARS:
            query = query[:MAX_QUERY_CHARS]
            notice = (f"Your question is {len(question):,} characters long; I searched with its "
                      f"first {MAX_QUERY_CHARS:,}.")

        with self.db.session() as s:
            scope = list(collections) if collections is not None else allowed_collections(
                session=s, platform=channel.platform, channel=channel.id,
                default_collection=self.settings.default_collection)
            present = existing_collections(session=s, names=scope)
            chunks = chunk_count(session=s, collections=present)
            history = []
            if thread:
                history = [t.standalone_question or t.question for t in interactions_db.thread_turns(
                    session=s, platform=channel.platform, channel=channel.id, thread=thread)]

        problem = self._scope_problem(scope, present, chunks)
        if problem:
            return self._finish(question=question, standalone=query, text=problem, draft=None,
                                passages=[], markers=[], abstained=True, scope=scope,
                                channel=channel, thread=thread, asker=asker, timings=timings,
                                t_start=t_start, notice=notice, versions={})

        t0 = time.perf_counter()
        standalone = condense(query, history, generate=self._condense_llm())
        timings["condense"] = (time.perf_counter() - t0) * 1000

        hits = self._retrieve(standalone, present, timings)
        t0 = time.perf_counter()
        if self.reranker is not None and hits:
            hits = self.reranker.rerank(standalone, hits, top_k=len(hits))
        passages = build_passages(hits)[: self.settings.retrieval_top_k]
        timings["fuse"] = (time.perf_counter() - t0) * 1000
        versions: dict[str, Any] = {
            "embedding": getattr(self.embedder, "model_id", None),
            "synthesis": self.synthesizer.name,
            "reranker": getattr(self.reranker, "name", None),
            "evidence": round(evidence(hits), 4),
            "abstain_threshold": self.settings.abstain_threshold,
        }

        if should_abstain(hits, self.settings.abstain_threshold):
            closest = passages[:CLOSEST_SOURCES]
            text = ABSTAIN_TEXT if closest else NO_SOURCES_TEXT
            return self._finish(question=question, standalone=standalone, text=text, draft=None,
                                passages=closest, markers=list(range(1, len(closest) + 1)),
                                abstained=True, scope=present, channel=channel, thread=thread,
                                asker=asker, timings=timings, t_start=t_start, notice=notice,
                                versions=versions)

        t0 = time.perf_counter()
        if on_text is not None and isinstance(self.synthesizer, StreamingSynthesizer):
            result = self.synthesizer.synthesize_stream(standalone, passages, on_text)
        else:
            result = self.synthesizer.synthesize(standalone, passages)
        timings["synthesize"] = (time.perf_counter() - t0) * 1000
        versions["llm"] = result.model
        if result.fallback:
            versions["synthesis_fallback"] = result.fallback
        if result.confidence is not None:
            versions["answer_confidence"] = result.confidence
        if result.abstain_reason:  # on topic, but no sentence says it
            versions["abstain_reason"] = result.abstain_reason
        draft, markers = renumber(result.text, len(passages))
        if not markers:  # nothing usable came back (or nothing answers): say so, never uncited
            return self._finish(question=question, standalone=standalone, text=ABSTAIN_TEXT,
                                draft=result.text, passages=passages[:CLOSEST_SOURCES],
                                markers=list(range(1, min(len(passages), CLOSEST_SOURCES) + 1)),
                                abstained=True, scope=present, channel=channel, thread=thread,
                                asker=asker, timings=timings, t_start=t_start, notice=notice,
                                versions=versions)
        cited = [passages[m - 1] for m in markers]
        t0 = time.perf_counter()
        text, style_version, rejected = self._style(draft, standalone, cited, channel)
        timings["style"] = (time.perf_counter() - t0) * 1000
        versions["style"] = style_version
        return self._finish(question=question, standalone=standalone, text=text, draft=draft,
                            passages=cited, markers=list(range(1, len(cited) + 1)),
                            abstained=False, scope=present, channel=channel, thread=thread,
                            asker=asker, timings=timings, t_start=t_start, notice=notice,
                            versions=versions, style_rejected=rejected, style_version=style_version,
                            streamed=result.streamed)

    # --- stages ---

    def _scope_problem(self, scope: list[str], present: list[str], chunks: int) -> str | None:
        if not scope:
            return ("This channel is not linked to any knowledge collection, so I have nothing to "
                    "search. An admin can link one (e.g. `scope set <collection>`).")
        if not present:
            names = ", ".join(scope)
            return (f"The knowledge collection {names} does not exist yet. An admin can create it "
                    "by adding a source (`lorebot sources add ...`) and ingesting it.")
        if chunks == 0:
            return ("The knowledge base for this channel is empty: no documents have been ingested "
                    "yet. An admin can add a source and run `lorebot ingest`.")
        return None

    def _retrieve(self, query: str, collections: list[str], timings: dict[str, float]
                  ) -> list[SearchHit]:
        """The same retriever ``lorebot eval retrieval`` measures, over the active vector space."""
        from knowledge.retriever import HybridRetriever

        st = self.settings
        # Twice top_k chunks, so neighbours can merge and duplicates drop without losing passages.
        top = min(st.retrieval_candidates, 2 * st.retrieval_top_k)
        retriever = HybridRetriever.from_settings(st, session_factory=self.db.session,
                                                  embedder=self.embedder, collections=collections,
                                                  top_k=top)
        hits = retriever.search_hits(query)
        timings.update(retriever.last_timings_ms)
        return hits

    def _condense_llm(self) -> Any:
        llm_synth = self.synthesizer
        if getattr(llm_synth, "name", "extractive") == "extractive" or not hasattr(llm_synth,
                                                                                   "generate"):
            return None
        return lambda prompt: llm_synth.generate("You rewrite follow-up questions.", prompt)

    def _style(self, draft: str, question: str, passages: Sequence[Passage], channel: ChannelRef
               ) -> tuple[str, str | None, str | None]:
        """The styled answer, the style model version, and why a styling was rejected."""
        if not self.settings.style_model_enabled:
            return draft, None, None
        try:
            from bot.style import apply_style
        except ImportError:
            return draft, None, None
        try:
            res = apply_style(settings=self.settings, db=self.db, draft=draft, question=question,
                              passages=[p.text for p in passages], channel=channel)
        except Exception as exc:  # the draft is a complete, grounded answer on its own
            log.warning("style model failed (%s); sending the draft", exc.__class__.__name__)
            return draft, None, f"error: {exc.__class__.__name__}"
        version = getattr(res, "version", None)
        rejected = getattr(res, "rejected", None)
        styled = (getattr(res, "text", None) or "").strip()
        if rejected or not styled:
            return draft, version, rejected or ("empty output" if version else None)
        from knowledge.synthesis import cited_markers

        if set(cited_markers(styled)) != set(cited_markers(draft)):
            return draft, version, "citations changed"
        return styled, version, None

    def _finish(
        self, *, question: str, standalone: str, text: str, draft: str | None,
        passages: Sequence[Passage], markers: list[int], abstained: bool, scope: list[str],
        channel: ChannelRef, thread: str | None, asker: Actor, timings: dict[str, float],
        t_start: float, notice: str | None, versions: dict[str, Any],
        style_rejected: str | None = None, style_version: str | None = None,
        streamed: bool = False,
    ) -> Answer:
        citations = [
            Citation(marker=m, title=p.title or p.uri, uri=p.uri,
                     heading=_heading_below_title(p.heading, p.title),
                     snippet=_snippet(p.text),
                     score=round(p.similarity if p.similarity is not None else p.score, 4),
                     chunk_id=p.first.chunk_id, document_id=p.document_id,
                     collection=p.collection, ingested_at=p.first.last_success_at)
            for m, p in zip(markers, passages, strict=True)
        ]
        timings["total"] = (time.perf_counter() - t_start) * 1000
        cited = [{"marker": c.marker, "chunk_ids": p.chunk_ids, "score": c.score,
                  "fused": round(p.score, 6), "collection": c.collection}
                 for c, p in zip(citations, passages, strict=True)]
        with self.db.session() as s:
            row = interactions_db.save_interaction(
                session=s, settings=self.settings, asker=asker, platform=channel.platform,
                channel=channel.id, thread=thread, question=question,
                standalone_question=standalone, draft_answer=draft, answer=text, cited=cited,
                collections=scope, model_versions=versions, latency_ms=timings["total"],
                timings={k: round(v, 2) for k, v in timings.items()}, abstained=abstained,
                style_rejected=style_rejected)
            iid = row.id
        return Answer(text=text, citations=citations, abstained=abstained, interaction_id=iid,
                      timings_ms=timings, question=question, standalone_question=standalone,
                      style_model=style_version, notice=notice, streamed=streamed)
