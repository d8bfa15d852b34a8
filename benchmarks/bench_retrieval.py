"""Retrieval benchmarks: quality on SciFact (hybrid vs each arm, RRF settings), latency at
100k chunks against a bare ``ORDER BY embedding <=> q LIMIT k``, and HNSW recall vs exact.

Prints JSON. Uses a persistent data dir (default /tmp/lore-bench) so the SciFact ingest and its
embedding cache are paid once:

    python benchmarks/bench_retrieval.py quality --data /work/shared/eval/scifact-train
    python benchmarks/bench_retrieval.py latency --rows 100000

The 100k-chunk table is built from the SciFact chunks: each chunk's text and vector is copied
~19 times, the vector with small Gaussian noise (renormalised). That is honest about *size*,
not about diversity: near-duplicates make HNSW's job harder and full-text matches 19x denser.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.runtime import open_database  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from knowledge.embeddings import embedder_from_settings  # noqa: E402
from knowledge.evaluation import evaluate_rankings, load_beir, percentile  # noqa: E402
from knowledge.retriever import fusion_from_settings  # noqa: E402
from knowledge.store.search import (  # noqa: E402
    SearchParams,
    bare_vector_ids,
    exact_vector_ids,
    search,
)


def _settings(data_dir: str, **kw):  # type: ignore[no-untyped-def]
    return load_settings(_env_file=None, lorebot_data_dir=data_dir, database_url=None, **kw)


def _rrf(vec: Sequence[str], kw: Sequence[str], *, k: float, wv: float, wk: float) -> list[str]:
    """The SQL's fusion, in Python, over the same candidate lists (for cheap parameter sweeps)."""
    scores: dict[str, float] = {}
    for pos, d in enumerate(vec, 1):
        scores[d] = scores.get(d, 0.0) + wv / (k + pos)
    for pos, d in enumerate(kw, 1):
        scores[d] = scores.get(d, 0.0) + wk / (k + pos)
    return [d for d, _ in sorted(scores.items(), key=lambda t: (-t[1], t[0]))]


def quality(args: argparse.Namespace) -> dict:
    from bot.cli.eval_cmd import run_retrieval_eval
    from knowledge.adaptation.compare import Variant

    settings = _settings(args.data_dir)
    db = open_database(settings)
    folder = Path(args.data)
    t0 = time.perf_counter()
    report = run_retrieval_eval(settings=settings, db=db, folder=folder, split=args.split,
                                limit_queries=args.limit_queries, progress=sys.stderr.isatty(),
                                loader=args.loader, batch_queries=True,
                                variants=tuple(Variant.parse(v) for v in args.space or ()))
    report["seconds"] = round(time.perf_counter() - t0, 1)
    if args.sweep:
        # Candidate lists per arm once (chunk ids -> doc ids), then fusion variants in Python.
        data = load_beir(folder, split=args.split)
        vectors = report["_query_vectors"]
        col = report["collection"]
        qids = [q for q in data.qrels if q in data.queries][: args.limit_queries or None]
        lists: dict[str, dict[str, list[str]]] = {"vector": {}, "keyword": {}}
        n = settings.retrieval_candidates
        with db.session() as s:
            for q in qids:
                vec = vectors[data.queries[q]]
                for mode in ("vector", "keyword"):
                    hits = search(session=s, params=SearchParams(collections=[col], top_k=n,
                                  candidates=n, mode=mode), query_text=data.queries[q],
                                  query_vector=vec)
                    ranked: list[str] = []
                    for h in hits:  # documents by their best chunk, as the evaluation ranks them
                        d = h.uri.removeprefix("beir:")
                        if d not in ranked:
                            ranked.append(d)
                    lists[mode][q] = ranked
        qrels = {q: data.qrels[q] for q in qids}
        sweep = []
        for k in (10, 30, 60, 100):
            for wv, wk in ((1, 1), (1.5, 1), (2, 1), (1, 0.5), (3, 1), (1, 1.5)):
                ranks = {q: _rrf(lists["vector"][q], lists["keyword"][q], k=k, wv=wv, wk=wk)
                         for q in qids}
                r = evaluate_rankings("hybrid", ranks, [0.0], qrels)
                sweep.append({"rrf_k": k, "vector_weight": wv, "keyword_weight": wk,
                              "ndcg_10": round(r.ndcg_10, 4), "recall_10": round(r.recall_10, 4)})
        sweep.sort(key=lambda r: -r["ndcg_10"])
        report["rrf_sweep_top"] = sweep[:8]
        report["rrf_sweep_default"] = next(r for r in sweep if r["rrf_k"] == settings.rrf_k
                                           and r["vector_weight"] == 1 and r["keyword_weight"] == 1)
    db.dispose()
    report.pop("_query_vectors", None)
    return report


def _bench_db(settings, name: str) -> str:  # type: ignore[no-untyped-def]
    import psycopg

    from bot.db import migrate

    main = open_database(settings)
    url = main.url
    main.dispose()
    head, _, query = url.partition("?")
    bench_url = head.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    admin = (head.rsplit("/", 1)[0] + "/postgres" + (f"?{query}" if query else "")).replace(
        "postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    migrate.upgrade(bench_url, embedding_dim=384)  # a table kept from an older run catches up
    with psycopg.connect(bench_url.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE chunk_terms")  # index-only posting scans need the VM set
    return bench_url


def _build_100k(args: argparse.Namespace, settings, bench_url: str) -> dict:  # type: ignore[no-untyped-def]
    import psycopg
    from pgvector.psycopg import register_vector

    src = open_database(settings)
    plain = bench_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        if have >= args.rows:
            return {"rows": have, "built_now": False}
    from sqlalchemy import text

    with src.session() as s:
        rows = s.execute(text(
            "SELECT c.text, c.heading_path, c.embedding::text, d.title FROM chunks c "
            "JOIN documents d ON d.id = c.document_id JOIN collections col ON col.id = c.collection_id "
            "WHERE col.name = :n ORDER BY c.id"), {"n": args.collection}).all()
    src.dispose()
    if not rows:
        raise SystemExit(f"collection {args.collection} is empty: run the quality benchmark first")
    base = np.asarray([json.loads(r[2]) for r in rows], dtype=np.float32)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    with psycopg.connect(plain) as conn:
        register_vector(conn)
        conn.execute("DELETE FROM chunks")
        conn.execute("DROP INDEX IF EXISTS ix_chunks_embedding_hnsw")
        conn.execute("DROP INDEX IF EXISTS ix_chunks_tsv")  # both indexes: load first, then build
        cid = conn.execute("INSERT INTO collections (name) VALUES ('bench') ON CONFLICT (name) "
                           "DO UPDATE SET name = 'bench' RETURNING id").fetchone()[0]
        sid = conn.execute("INSERT INTO sources (name, kind, location, collection_id) VALUES "
                           "('bench', 'jsonl', 'synthetic', %s) ON CONFLICT (name) DO UPDATE SET "
                           "kind = 'jsonl' RETURNING id", (cid,)).fetchone()[0]
        did = conn.execute("INSERT INTO documents (source_id, external_id, content_hash) VALUES "
                           "(%s, 'bench', 'x') ON CONFLICT (source_id, external_id) DO UPDATE SET "
                           "content_hash = 'x' RETURNING id", (sid,)).fetchone()[0]
        copies = int(np.ceil(args.rows / len(rows)))
        ordinal = 0
        with conn.cursor().copy(
            "COPY chunks (document_id, collection_id, source_id, ordinal, text, heading_path, "
            "text_hash, embedding) FROM STDIN WITH (FORMAT BINARY)") as cp:
            cp.set_types(["int8", "int4", "int4", "int4", "text", "text", "varchar", "vector"])
            for c in range(copies):
                noise = (rng.normal(0, args.noise / np.sqrt(base.shape[1]), base.shape)
                         if c else np.zeros_like(base)).astype(np.float32)
                vecs = base + noise
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
                for (t, hp, _, _), v in zip(rows, vecs, strict=True):
                    if ordinal >= args.rows:
                        break
                    cp.write_row((did, cid, sid, ordinal, t, hp, "bench", v))
                    ordinal += 1
        loaded = time.perf_counter()
        conn.execute("CREATE INDEX ix_chunks_tsv ON chunks USING gin (tsv)")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("CREATE INDEX ix_chunks_embedding_hnsw ON chunks USING hnsw "
                     "(embedding vector_cosine_ops) WITH (m = 16, ef_construction = 128)")
        conn.commit()
        conn.execute("ANALYZE chunks")
        conn.commit()
    return {"rows": ordinal, "built_now": True, "copy_s": round(loaded - t0, 1),
            "index_s": round(time.perf_counter() - loaded, 1), "noise": args.noise}


def _show(db, name: str) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with db.session() as s:
        return str(s.execute(text(f"SHOW {name}")).scalar_one())


def latency(args: argparse.Namespace) -> dict:
    from bot.db.session import connect

    settings = _settings(args.data_dir)
    bench_url = _bench_db(settings, "lorebench100k")
    build = _build_100k(args, settings, bench_url)
    db = connect(settings, url=bench_url)
    embedder = embedder_from_settings(settings)
    data = load_beir(args.data, split=args.split)
    questions = list(data.queries.values())[: args.queries]
    embedder.embed_query("warm up")
    params = SearchParams(collections=["bench"], top_k=settings.retrieval_top_k * 2,
                          candidates=settings.retrieval_candidates,
                          ef_search=settings.retrieval_ef_search, rrf_k=settings.rrf_k,
                          **fusion_from_settings(settings))
    hybrid_ms, hybrid_sql_ms, bare_ms, bare_sql_ms, embed_ms = [], [], [], [], []
    # Steady state, as a bot answering all day sees it: warm the caches with other questions
    # (from the end of the list, never the measured ones).
    for q in list(data.queries.values())[::-1][: args.warmup]:
        if q in questions:
            break
        with db.session() as s:
            search(session=s, params=params, query_text=q, query_vector=embedder.embed_query(q))
    for q in questions:
        t0 = time.perf_counter()
        vec = embedder.embed_query(q)
        t1 = time.perf_counter()
        with db.session() as s:
            search(session=s, params=params, query_text=q, query_vector=vec)
        t2 = time.perf_counter()
        embed_ms.append((t1 - t0) * 1000)
        hybrid_sql_ms.append((t2 - t1) * 1000)
        hybrid_ms.append((t2 - t0) * 1000)
        t3 = time.perf_counter()
        vec2 = embedder.embed_query(q)
        t4 = time.perf_counter()
        with db.session() as s:
            bare_vector_ids(session=s, query_vector=vec2, k=10,
                            ef_search=settings.retrieval_ef_search)
        t5 = time.perf_counter()
        bare_sql_ms.append((t5 - t4) * 1000)
        bare_ms.append((t5 - t3) * 1000)
    recall_qs = list(data.queries.values())[: args.recall_queries]
    recall_vecs = embedder.embed(recall_qs) if recall_qs else []
    exact: list[set[int]] = []
    for vec in recall_vecs:
        with db.session() as s:
            exact.append(set(exact_vector_ids(session=s, query_vector=vec, k=10)))

    def recall_at(ef: int) -> float:
        p = SearchParams(collections=["bench"], top_k=10, candidates=10, ef_search=ef, mode="vector")
        found = []
        for q, vec, ex in zip(recall_qs, recall_vecs, exact, strict=True):
            with db.session() as s:
                got = {h.chunk_id for h in search(session=s, params=p, query_text=q, query_vector=vec)}
            found.append(len(got & ex) / 10)
        return round(float(np.mean(found)), 4) if found else float("nan")

    recalls = [recall_at(settings.retrieval_ef_search)] if recall_qs else []
    ef_sweep = {ef: recall_at(ef) for ef in args.ef_sweep} if recall_qs else {}
    db.dispose()

    def stats(v: list[float]) -> dict:
        return {"p50": round(percentile(v, 50), 2), "p95": round(percentile(v, 95), 2)}

    hy, ba = stats(hybrid_ms), stats(bare_ms)
    return {
        "table": build, "queries": len(questions), "warmup_queries": args.warmup,
        "fusion": fusion_from_settings(settings),
        "embedding": {"runtime": embedder.runtime, "precision": embedder.precision},
        "ef_search": settings.retrieval_ef_search,
        "candidates": settings.retrieval_candidates, "cpu_count": os.cpu_count(),
        "load_1min": round(os.getloadavg()[0], 2),
        "shared_buffers": _show(db, "shared_buffers"),
        "hybrid_total_ms (embed + vector + full-text + fusion)": hy,
        "hybrid_sql_ms": stats(hybrid_sql_ms),
        "bare_total_ms (embed + ORDER BY embedding <=> q LIMIT 10)": ba,
        "bare_sql_ms": stats(bare_sql_ms),
        "embed_ms": stats(embed_ms),
        "ratio_p95_total": round(hy["p95"] / ba["p95"], 2) if ba["p95"] else None,
        "ratio_p95_sql": round(stats(hybrid_sql_ms)["p95"] / max(1e-9, stats(bare_sql_ms)["p95"]), 2),
        "hnsw_recall_at_10_vs_exact": recalls[0] if recalls else None,
        "recall_queries": len(recall_qs),
        "hnsw_recall_at_10_by_ef_search": ef_sweep,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["quality", "latency"])
    p.add_argument("--data", default="/work/shared/eval/scifact-train")
    p.add_argument("--split", default="train")
    p.add_argument("--data-dir", default="/tmp/lore-bench")
    p.add_argument("--limit-queries", type=int, default=None)
    p.add_argument("--sweep", action="store_true", help="also sweep RRF k and weights")
    p.add_argument("--loader", choices=["pipeline", "minimal"], default="minimal",
                   help="minimal: one chunk per abstract (BEIR practice); pipeline: the bot's chunker")
    p.add_argument("--space", action="append", default=[],
                   help="quality: also measure this reduced space side by side (halfvec, pca256, "
                        "pca128+halfvec...); repeatable")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--noise", type=float, default=0.25,
                   help="Gaussian noise norm added to each copied unit vector")
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--warmup", type=int, default=200,
                   help="latency: questions run first to warm the caches (not the measured ones)")
    p.add_argument("--ef-sweep", type=int, nargs="*", default=[200, 400, 800],
                   help="latency: also measure HNSW recall at these ef_search values")
    p.add_argument("--recall-queries", type=int, default=200)
    p.add_argument("--collection", default="eval-scifact-train-whole")
    args = p.parse_args()
    out = quality(args) if args.what == "quality" else latency(args)
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
