"""``lorebot eval retrieval DIR`` and ``lorebot eval answers DIR``: measure the bot on labelled
questions (retrieval quality; answer quality through the answering service)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from bot.cli.common import emit_json, eval_collection_name, friendly_errors

app = typer.Typer(help="Measure retrieval quality on a labelled (BEIR-layout) folder.",
                  no_args_is_help=True)

ARMS = ("hybrid", "vector", "keyword")


class _QueryMemo:
    """Embeds each question once for all arms, remembering what that embedding cost, so every
    arm's latency still includes it (keyword-only excepted) without paying it three times."""

    def __init__(self, embedder: Any) -> None:
        self._embedder = embedder
        self.vectors: dict[str, Any] = {}
        self.cost_ms: dict[str, float] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    def embed_query(self, text: str) -> Any:
        if text not in self.vectors:
            import time

            t0 = time.perf_counter()
            self.vectors[text] = self._embedder.embed_query(text)
            self.cost_ms[text] = (time.perf_counter() - t0) * 1000
        return self.vectors[text]

    def prefill(self, texts: list[str]) -> None:
        """Embed all questions in batches; each is charged the batch's average cost."""
        import time

        todo = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if not todo:
            return
        t0 = time.perf_counter()
        vectors = self._embedder.embed(todo)
        each = (time.perf_counter() - t0) * 1000 / len(todo)
        for t, v in zip(todo, vectors, strict=True):
            self.vectors[t], self.cost_ms[t] = v, each


def _ingest_with_pipeline(*, settings: Any, db: Any, collection: str, docs: list, embedder: Any,
                          progress: bool) -> bool:
    """Ingest through the bot's own pipeline (chunking, cache, incremental): the corpus goes
    into a JSONL file whose text starts with the title, so title words are searchable."""
    import json

    from bot.db import sources as sources_db
    from bot.ingest import ingest_source

    path = Path(settings.lorebot_data_dir) / "eval" / f"{collection}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps({"_id": d.external_id, "title": d.title, "text": d.text,
                               "url": d.uri}) + "\n" for d, _ in docs)
    if not path.exists() or path.read_text(encoding="utf-8") != body:
        path.write_text(body, encoding="utf-8")
    with db.session() as s:
        if sources_db.get_source(session=s, name=collection) is None:
            sources_db.create_source(session=s, name=collection, kind="jsonl", location=str(path),
                                     collection=collection)
    result = ingest_source(db=db, settings=settings, name=collection, embedder=embedder,
                           progress=progress)
    if result.status in ("failed", "busy"):
        raise ValueError(f"ingesting the evaluation corpus failed: {result.summary()}")
    return bool(result.added or result.updated or result.deleted)


def _rank_documents(hits: list[Any], uri_to_id: dict[str, str]) -> list[str]:
    """Documents ranked by their best chunk."""
    ranked: list[str] = []
    for h in hits:
        did = uri_to_id.get(h.uri, h.uri)
        if did not in ranked:
            ranked.append(did)
    return ranked


def _compare_spaces(*, settings: Any, db: Any, data: Any, collection: str, variants: tuple[Any, ...],
                    memo: _QueryMemo, rank: Any, limit_queries: int | None,
                    progress: bool) -> list[dict[str, Any]]:
    """The active space's vectors, full and reduced, side by side (vector and hybrid arms)."""
    import time

    from knowledge.adaptation.compare import compare_spaces
    from knowledge.adaptation.switch import active_spec, encoder_for
    from knowledge.retriever import HybridRetriever

    with db.session() as s:
        spec = active_spec(session=s, settings=settings)
    questions = list(dict.fromkeys(data.queries[q] for q in data.qrels if q in data.queries))
    if spec.space.is_base:
        memo.prefill(questions)
        vectors, cost = memo.vectors, memo.cost_ms
    else:  # an adapted model is active: its encoder embeds the questions
        enc = encoder_for(spec, settings)
        t0 = time.perf_counter()
        encoded = enc.encode(questions)
        each = (time.perf_counter() - t0) * 1000 / max(1, len(questions))
        vectors = dict(zip(questions, encoded, strict=True))
        cost = dict.fromkeys(questions, each)
    say = (lambda msg: typer.echo(msg, err=True)) if progress else None
    rows: list[dict[str, Any]] = []
    for mode in ("vector", "hybrid"):
        params = HybridRetriever.from_settings(settings, session_factory=db.session, embedder=memo,
                                               collections=[collection], mode=mode, top_k=100).params
        rows += compare_spaces(db=db, data=data, collection=collection, base_space=spec.space,
                               query_vectors=vectors, query_cost_ms=cost, variants=variants,
                               rank_documents=rank, params=params, limit_queries=limit_queries,
                               progress=say)
    for r in rows:
        r["of_space"] = spec.space.version
    return rows


def run_retrieval_eval(
    *, settings: Any, db: Any, folder: Path, split: str = "test", limit_queries: int | None = None,
    progress: bool = False, modes: tuple[str, ...] = ARMS, loader: str = "pipeline",
    batch_queries: bool = False, variants: tuple[Any, ...] = (),
) -> dict[str, Any]:
    """Ingest ``folder``'s corpus into its own collection (reused when unchanged) and run every
    judged query through the same retriever the bot uses, once per arm.

    ``loader="pipeline"`` ingests with the bot's chunker (several chunks per long document);
    ``"minimal"`` writes one chunk per document (title + text), the usual BEIR setting.
    ``variants`` (``knowledge.adaptation.compare.Variant``) are measured side by side with
    the full vectors of the active space, for the vector and hybrid arms."""
    from bot.db import sources as sources_db
    from knowledge.embeddings import embedder_from_settings
    from knowledge.evaluation import beir_documents, load_beir, run_arms, write_corpus
    from knowledge.retriever import HybridRetriever

    data = load_beir(folder, split=split)
    # Each loader has its own collection, so their chunks never mix.
    collection = eval_collection_name(folder) + ("-whole" if loader == "minimal" else "")
    embedder = embedder_from_settings(settings)
    docs = beir_documents(data)
    try:
        from bot.ingest import ingest_source
    except ImportError:  # a trimmed install without the ingestion pipeline
        ingest_source = None
    if loader not in ("pipeline", "minimal"):
        raise ValueError("loader is pipeline or minimal")
    if ingest_source is not None and loader == "pipeline":
        loaded = _ingest_with_pipeline(settings=settings, db=db, collection=collection, docs=docs,
                                       embedder=embedder, progress=progress)
    else:
        with db.session() as s:
            have = sources_db.document_count_by_name(session=s, name=collection)
        loaded = have != len(docs)
        if loaded:
            with db.session() as s:
                write_corpus(session=s, embedder=embedder, collection=collection,
                             source=collection, docs=docs, location=str(folder.resolve()),
                             kind="jsonl", progress=progress)
    uri_to_id = {d.uri: d.external_id for d, _ in docs}
    memo = _QueryMemo(embedder)
    if batch_queries:  # quality runs: one batched embedding pass (latency then amortised)
        memo.prefill([data.queries[q] for q in data.qrels if q in data.queries])
    retrievers = {
        m: HybridRetriever.from_settings(settings, session_factory=db.session, embedder=memo,
                                         collections=[collection], mode=m, top_k=100)
        for m in modes
    }

    def search_fn(mode: str, question: str) -> tuple[list[str], float]:
        retriever = retrievers[mode]
        hits = retriever.search_hits(question)
        ms = retriever.last_timings_ms["search"]
        if mode != "keyword":
            ms += memo.cost_ms[question]
        return _rank_documents(hits, uri_to_id), ms

    embedder.embed_query("warm up")  # the first call pays for lazy initialisation
    results = run_arms(data=data, search_fn=search_fn, modes=modes, limit_queries=limit_queries,
                       progress=progress)
    space_rows = _compare_spaces(
        settings=settings, db=db, data=data, collection=collection, variants=variants, memo=memo,
        rank=lambda hits: _rank_documents(hits, uri_to_id), limit_queries=limit_queries,
        progress=progress,
    ) if variants else []
    return {
        "dataset": str(folder), "split": split, "collection": collection,
        "documents": len(docs), "ingested_now": loaded, "loader": loader,
        "embedding_model": embedder.model_id,
        "embedding_runtime": {"runtime": embedder.runtime, "precision": embedder.precision,
                              "reason": getattr(getattr(embedder, "choice", None), "reason", "")},
        "settings": {"fusion_method": settings.fusion_method,
                     "fusion_vector_weight": settings.fusion_vector_weight,
                     "fusion_keyword_weight": settings.fusion_keyword_weight,
                     "rrf_k": settings.rrf_k, "rrf_vector_weight": settings.rrf_vector_weight,
                     "rrf_keyword_weight": settings.rrf_keyword_weight,
                     "retrieval_candidates": settings.retrieval_candidates,
                     "retrieval_ef_search": settings.retrieval_ef_search},
        "arms": {m: r.summary() for m, r in results.items()},
        "spaces": space_rows,
        "latency_note": "per query: embedding (not for keyword) + the search statement"
                        + ("; embedding amortised over a batch" if batch_queries else ""),
        "_query_vectors": memo.vectors,
    }


@app.command("retrieval")
@friendly_errors
def retrieval(
    folder: Path = typer.Argument(..., help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/"),
    split: str = typer.Option("test", "--split", help="Which qrels/<split>.tsv to use."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    limit_queries: int = typer.Option(0, "--limit-queries", help="Only the first N queries."),
    space: list[str] = typer.Option(
        None, "--space", help="Also measure a reduced vector space side by side with the full "
        "one: halfvec, pcaN, truncN or e.g. pca256+halfvec (repeatable). The reduction the "
        "settings ask for (EMBEDDING_STORAGE/EMBEDDING_DIMENSIONS) is always included."),
) -> None:
    """Report nDCG@10, Recall@10/100, MRR@10 and latency for hybrid and each single arm."""
    from bot.runtime import open_database
    from bot.settings import get_settings
    from knowledge.adaptation.compare import Variant

    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder; pass a BEIR-layout folder")
    settings = get_settings()
    variants = [Variant.parse(v) for v in space or []]
    configured = Variant.from_settings(settings)
    if not configured.is_full and configured not in variants:
        variants.insert(0, configured)
    db = open_database(settings)
    try:
        report = run_retrieval_eval(settings=settings, db=db, folder=folder, split=split,
                                    limit_queries=limit_queries or None,
                                    progress=sys.stderr.isatty() and not as_json,
                                    variants=tuple(variants))
    finally:
        db.dispose()
    report.pop("_query_vectors", None)
    if as_json:
        emit_json(report)
        return
    typer.echo(f"{report['dataset']} ({report['split']}, {report['documents']} documents, "
               f"model {report['embedding_model']})")
    typer.echo(f"{'arm':8} {'nDCG@10':>8} {'R@10':>7} {'R@100':>7} {'MRR@10':>7} "
               f"{'p50 ms':>7} {'p95 ms':>7}")
    for mode, r in report["arms"].items():
        typer.echo(f"{mode:8} {r['ndcg_10']:8.4f} {r['recall_10']:7.4f} {r['recall_100']:7.4f} "
                   f"{r['mrr_10']:7.4f} {r['latency_p50_ms']:7.1f} {r['latency_p95_ms']:7.1f}")
    if report["spaces"]:
        typer.echo(f"\nvector spaces (the active space {report['spaces'][0]['of_space']}, "
                   "full and reduced, each in its own table and HNSW index):")
        typer.echo(f"{'space':16} {'arm':7} {'dim':>5} {'nDCG@10':>8} {'R@10':>7} {'index MB':>9} "
                   f"{'vectors MB':>10} {'p50 ms':>7} {'p95 ms':>7}")
        for r in report["spaces"]:
            typer.echo(f"{r['space']:16} {r['mode']:7} {r['dimension']:>5} {r['ndcg_10']:8.4f} "
                       f"{r['recall_10']:7.4f} {r['index_bytes'] / 1e6:9.2f} "
                       f"{r['vector_bytes'] / 1e6:10.2f} {r['latency_p50_ms']:7.1f} "
                       f"{r['latency_p95_ms']:7.1f}")


@app.command("answers")
@friendly_errors
def answers(
    folder: Path = typer.Argument(..., help="Folder with corpus.jsonl and questions.jsonl "
                                  "(the squad2-dev layout)."),
    split: str = typer.Option("all", "--split", help="all, an article name (e.g. Normans), or "
                              "not:ARTICLE for every other article."),
    limit: int = typer.Option(0, "--limit", help="Only the first N selected questions."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    plot: Path = typer.Option(None, "--plot", help="Where to write the PNG (default: "
                              "<data dir>/eval/answers-<folder>.png)."),
) -> None:
    """Ask every question through the bot's answering service; report hit, first-sentence hit,
    length, citations, abstention and latency, with the retrieval ceiling and the
    sliding-window sentence as reference points from the same run."""
    from bot.cli.eval_answers import run_answers_eval
    from bot.runtime import open_database
    from bot.settings import get_settings

    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder; pass one with corpus.jsonl and "
                                "questions.jsonl")
    settings = get_settings()
    plot = plot or Path(settings.lorebot_data_dir) / "eval" / f"answers-{folder.resolve().name}.png"
    db = open_database(settings)
    try:
        report = run_answers_eval(settings=settings, db=db, folder=folder, split=split,
                                  limit=limit or None, progress=sys.stderr.isatty(), plot=plot)
    finally:
        db.dispose()
    report.pop("_outcomes", None)
    report.pop("_passages", None)
    if as_json:
        emit_json(report)
        return
    ref = report["reference"]
    typer.echo(f"{report['dataset']} ({report['split']}: {report['answerable']} answerable, "
               f"{report['unanswerable']} unanswerable; synthesis {report['synthesis']})")
    rows = [("hit (answered answerable)", report["hit"]),
            ("first-sentence hit", report["first_sentence_hit"]),
            ("words median / p90", f"{report['words_median']} / {report['words_p90']}"),
            ("cited the right paragraph", report["cited_right_paragraph"]),
            ("false-abstain (answerable)", report["false_abstain_rate"]),
            ("abstained (unanswerable)", report["unanswerable_abstain_rate"]),
            ("ref: retrieval ceiling", ref["retrieval_ceiling"]),
            ("ref: sliding-window sentence", ref["sliding_window_hit"])]
    for name, value in rows:
        typer.echo(f"  {name:30} {value}")
    typer.echo("  latency p50 / p95 ms: " + ", ".join(
        f"{k} {v['p50_ms']}/{v['p95_ms']}" for k, v in report["latency"].items()))
    typer.echo(f"  plot: {report.get('plot')}")


if __name__ == "__main__":  # pragma: no cover
    app()
