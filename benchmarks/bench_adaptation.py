"""Embedding adaptation and vector reduction, measured on a labelled set in BEIR layout.

Stage ``model`` (numpy, no database): split the queries into train/validation by a stable
hash (and a small dev part of train for early stopping), embed the corpus with the current
model, adapt on the train part, embed again, and report exact-search nDCG@10 / recall@10 on
the validation part before and after, plus PCA (384 -> 256 -> 128), Matryoshka-style
truncation and halfvec rounding. Stage ``db`` (real embedded Postgres): loads the corpus as
chunks, puts each model/reduction into its own vector space (``knowledge.store.spaces``) and
reports hybrid and vector nDCG@10 through SQL, HNSW index size and p50/p95 search latency.
The baseline (the current model, full float32 vectors) is measured in the same run.
Corpus vectors are cached under ``--work`` (np.save), so reruns are cheap.

    python benchmarks/bench_adaptation.py --data ../shared/eval/scifact-train --work /tmp/lore-adapt \
        --stage all --epochs 1 --batch-size 16 --out /tmp/lore-adapt/result.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from knowledge.adaptation import metrics, reduce  # noqa: E402
from knowledge.adaptation.pairs import (  # noqa: E402
    load_beir,
    mine_hard_negatives,
    pairs_from_labelled,
    stable_split,
)
from knowledge.adaptation.train import TrainConfig, train_embedding_model  # noqa: E402
from knowledge.embeddings import DEFAULT_MODEL, Embedder  # noqa: E402

log = logging.getLogger("bench_adaptation")


def _embed_cached(embedder: Embedder, texts: list[str], path: Path) -> np.ndarray:
    if path.exists():
        vecs = np.load(path)
        if vecs.shape[0] == len(texts):
            return vecs
    t0 = time.perf_counter()
    vecs = embedder.embed(texts)
    log.info("embedded %d texts in %.1fs -> %s", len(texts), time.perf_counter() - t0, path)
    np.save(path, vecs)
    return vecs


def _quality(qvecs: np.ndarray, dvecs: np.ndarray, doc_ids: list[str], qids: list[str],
             qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    ranked = metrics.exact_rankings(qvecs, dvecs, doc_ids, k=10)
    return metrics.score_rankings(dict(zip(qids, ranked, strict=True)), {q: qrels[q] for q in qids})


def stage_model(args: argparse.Namespace, work: Path, result: dict[str, Any]) -> None:
    data = load_beir(args.data, split=args.split)
    qids = sorted(data.qrels)
    train_ids, val_ids = stable_split(qids, validation_fraction=args.validation_fraction)
    fit_ids, dev_ids = stable_split(train_ids, validation_fraction=0.1, salt="lorebot-dev")
    result["split"] = {"queries": len(qids), "train": len(fit_ids), "dev": len(dev_ids),
                       "validation": len(val_ids), "corpus": len(data.corpus)}
    doc_ids = sorted(data.corpus)
    texts = [data.corpus[d] for d in doc_ids]
    base = Embedder(DEFAULT_MODEL, max_tokens=args.max_tokens, precision="fp32")
    base_docs = _embed_cached(base, texts, work / "corpus_base.npy")
    base_val_q = base.embed([data.queries[q] for q in val_ids])
    base_q_all = base.embed([data.queries[q] for q in fit_ids])
    np.save(work / "queries_val_base.npy", base_val_q)
    before = _quality(base_val_q, base_docs, doc_ids, val_ids, data.qrels)
    result["vector_numpy"] = {"base_full_corpus": before}
    log.info("base on validation: %s", before)

    negs = mine_hard_negatives(data, fit_ids, query_vectors=base_q_all, doc_ids=doc_ids,
                               doc_vectors=base_docs, per_query=args.hard_negatives)
    train_pairs = pairs_from_labelled(data, fit_ids, hard_negatives=negs)
    dev_pairs = pairs_from_labelled(data, dev_ids)
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, max_seq_length=args.max_seq,
                      max_steps=args.max_steps, learning_rate=args.lr, patience=1,
                      matryoshka_dims=tuple(args.matryoshka))
    out_dir = work / "model_adapted"
    t0 = time.perf_counter()
    trained = train_embedding_model(base_model=DEFAULT_MODEL, train_pairs=train_pairs,
                                    validation_pairs=dev_pairs, output_dir=out_dir, config=cfg)
    result["training"] = {**trained.summary(), "pairs": len(train_pairs), "dev_pairs": len(dev_pairs),
                          "wall_s": round(time.perf_counter() - t0, 1), "plot": str(trained.plot),
                          "config": {"epochs": cfg.epochs, "batch_size": cfg.batch_size,
                                     "max_seq_length": cfg.max_seq_length, "lr": cfg.learning_rate,
                                     "hard_negatives_per_query": args.hard_negatives,
                                     "matryoshka_dims": list(cfg.matryoshka_dims)}}
    (work / "training.json").write_text(json.dumps(result["training"], indent=2, default=str))
    adapted = Embedder(str(out_dir), max_tokens=args.max_tokens, precision="fp32")
    # Before/after on one evaluation corpus: the full corpus, or (to fit a CPU budget) every
    # document judged for a validation query plus hash-chosen distractors; both models rank
    # exactly the same documents.
    sub_ids = eval_subset(data, val_ids, doc_ids, args.eval_corpus)
    index = {d: i for i, d in enumerate(doc_ids)}
    base_sub = base_docs[[index[d] for d in sub_ids]]
    result["eval_corpus"] = {"documents": len(sub_ids), "full_corpus": len(doc_ids),
                             "is_full": len(sub_ids) == len(doc_ids)}
    result["vector_numpy"]["base_on_eval_corpus"] = _quality(base_val_q, base_sub, sub_ids, val_ids,
                                                             data.qrels)
    ad_docs = _embed_cached(adapted, [data.corpus[d] for d in sub_ids],
                            work / f"corpus_adapted_{len(sub_ids)}.npy")
    ad_val_q = adapted.embed([data.queries[q] for q in val_ids])
    np.save(work / "queries_val_adapted.npy", ad_val_q)
    after = _quality(ad_val_q, ad_docs, sub_ids, val_ids, data.qrels)
    result["vector_numpy"]["adapted_on_eval_corpus"] = after
    log.info("adapted on validation: %s", after)
    if len(sub_ids) == len(doc_ids):  # train-part queries: how much is memorised vs generalised
        ad_train_q = adapted.embed([data.queries[q] for q in fit_ids])
        result["vector_numpy_train_part"] = {
            "base": _quality(base_q_all, base_docs, doc_ids, fit_ids, data.qrels),
            "adapted": _quality(ad_train_q, ad_docs, doc_ids, fit_ids, data.qrels),
        }
    _reductions(result, base_docs, base_val_q, doc_ids, val_ids, data.qrels, "base", args.pca_dims)
    _reductions(result, ad_docs, ad_val_q, sub_ids, val_ids, data.qrels, "adapted_on_eval_corpus",
                [d for d in args.pca_dims if d < len(sub_ids)])


def eval_subset(data: Any, val_ids: list[str], doc_ids: list[str], size: int) -> list[str]:
    """Every document judged for a validation query, then distractors by stable hash, to ``size``."""
    if size <= 0 or size >= len(doc_ids):
        return list(doc_ids)
    from knowledge.adaptation.pairs import stable_bucket

    judged = {d for q in val_ids for d in data.qrels[q]}
    others = sorted((d for d in doc_ids if d not in judged),
                    key=lambda d: stable_bucket(d, salt="distractor"))
    return sorted(judged | set(others[: max(0, size - len(judged))]))


def _reductions(result: dict[str, Any], docs: np.ndarray, qv: np.ndarray, doc_ids: list[str],
                val_ids: list[str], qrels: dict[str, dict[str, int]], name: str,
                pca_dims: list[int]) -> None:
    table = result.setdefault("reductions_numpy", {}).setdefault(name, {})
    half_d = reduce.to_half(docs)
    table["halfvec"] = _quality(reduce.to_half(qv), half_d, doc_ids, val_ids, qrels)
    for dims in pca_dims:
        pca = reduce.fit_pca(docs, dims)
        table[f"pca{dims}"] = _quality(pca.apply(qv), pca.apply(docs), doc_ids, val_ids, qrels)
        table[f"pca{dims}"]["explained_variance"] = round(pca.explained_variance, 4)
        table[f"truncate{dims}"] = _quality(reduce.truncate(qv, dims), reduce.truncate(docs, dims),
                                            doc_ids, val_ids, qrels)


def _open_db(work: Path) -> tuple[Any, Any]:
    from bot.db import migrate
    from bot.db.embedded import start_embedded
    from bot.db.session import connect
    from bot.settings import load_settings

    pg = work / "pg"
    pg.mkdir(exist_ok=True)
    os.chmod(pg, 0o755)
    url = start_embedded(pg)
    migrate.upgrade(url, embedding_dim=384)
    settings = load_settings(_env_file=None, lorebot_data_dir=work / "data", database_url=url,
                             embedding_precision="fp32")
    return settings, connect(settings)


def _load_chunks(settings: Any, db: Any, folder: str, data: Any, doc_ids: list[str],
                 base_docs: np.ndarray, sub_ids: list[str]) -> dict[int, str]:
    """The corpus as one chunk per document (H2's eval writer), vectors from the numpy cache."""
    from sqlalchemy import text

    from knowledge.embeddings import embedder_from_settings, text_hash
    from knowledge.evaluation import beir_documents, write_corpus
    from knowledge.store.search import vector_literal

    embedder = embedder_from_settings(settings)
    with db.session() as s:
        have = s.execute(text("SELECT count(*) FROM chunks")).scalar_one()
    if have != len(doc_ids):
        with db.session() as s:
            rows = [{"m": embedder.model_id, "h": text_hash(data.corpus[d]), "e": vector_literal(v)}
                    for d, v in zip(doc_ids, base_docs, strict=True)]
            s.execute(text("INSERT INTO embedding_cache (model, text_hash, embedding) VALUES "
                           "(:m, :h, CAST(:e AS vector)) ON CONFLICT DO NOTHING"), rows)
        from knowledge.evaluation import load_beir as parse

        docs = beir_documents(parse(Path(folder), split="train"))
        inside = set(sub_ids)
        # Two sources, so a search can be limited to the evaluation corpus with a source filter.
        for source, part in (("scifact-sub", [d for d in docs if d[0].external_id in inside]),
                             ("scifact-rest", [d for d in docs if d[0].external_id not in inside])):
            if part:
                with db.session() as s:
                    write_corpus(session=s, embedder=embedder, collection="scifact", source=source,
                                 docs=part)
    with db.session() as s:
        rows = s.execute(text("SELECT c.id, d.external_id FROM chunks c "
                              "JOIN documents d ON d.id = c.document_id")).all()
    return {int(c): str(e) for c, e in rows}


def _run_space(db: Any, space: Any, qvecs: np.ndarray, val_ids: list[str], queries: dict[str, str],
               qrels: dict[str, dict[str, int]], chunk_doc: dict[int, str],
               sources: list[str] | None = None) -> dict[str, Any]:
    from knowledge.store import spaces
    from knowledge.store.search import SearchParams

    out: dict[str, Any] = {}
    for mode in ("vector", "hybrid"):
        params = SearchParams(collections=["scifact"], mode=mode, top_k=10, candidates=50, ef_search=100,
                              sources=sources)
        rankings: dict[str, list[str]] = {}
        lat: list[float] = []
        with db.session() as s:
            for qid, qv in zip(val_ids, qvecs, strict=True):
                t0 = time.perf_counter()
                hits = spaces.search_space(session=s, space=space, params=params,
                                           query_text=queries[qid], query_vector=qv)
                lat.append((time.perf_counter() - t0) * 1000)
                rankings[qid] = [chunk_doc[h.chunk_id] for h in hits]
        scores = metrics.score_rankings(rankings, {q: qrels[q] for q in val_ids})
        out[mode] = {**{k: round(v, 4) for k, v in scores.items() if k != "queries"},
                     "p50_ms": round(float(np.percentile(lat, 50)), 2),
                     "p95_ms": round(float(np.percentile(lat, 95)), 2)}
    with db.session() as s:
        out.update(spaces.storage_bytes(session=s, space=space))
    return out


def stage_db(args: argparse.Namespace, work: Path, result: dict[str, Any]) -> None:
    """Hybrid and vector nDCG@10 through SQL, index size and latency, per vector space."""
    from knowledge.store import spaces

    data = load_beir(args.data, split=args.split)
    qids = sorted(data.qrels)
    _, val_ids = stable_split(qids, validation_fraction=args.validation_fraction)
    doc_ids = sorted(data.corpus)
    sub_ids = eval_subset(data, val_ids, doc_ids, args.eval_corpus)
    full = len(sub_ids) == len(doc_ids)
    base_docs = np.load(work / "corpus_base.npy")
    base_q = np.load(work / "queries_val_base.npy")
    # The adapted model's spaces are measured once its vectors exist (a rerun resumes).
    have_adapted = (work / f"corpus_adapted_{len(sub_ids)}.npy").exists()
    ad_docs = np.load(work / f"corpus_adapted_{len(sub_ids)}.npy") if have_adapted else base_docs[:0]
    ad_q = np.load(work / "queries_val_adapted.npy") if have_adapted else base_q[:0]
    settings, db = _open_db(work)
    chunk_doc = _load_chunks(settings, db, args.data, data, doc_ids, base_docs, sub_ids)
    doc_chunk = {d: c for c, d in chunk_doc.items()}
    chunk_ids = [doc_chunk[d] for d in doc_ids]
    sub_chunk_ids = [doc_chunk[d] for d in sub_ids]
    hi, lo = args.pca_dims
    pca = {n: reduce.fit_pca(base_docs, n) for n in (hi, lo)}
    # (name, storage, chunk ids, their vectors, validation query vectors, corpus it covers)
    plans: list[tuple[str, str, list[int], np.ndarray, np.ndarray, str]] = [
        ("base-half", "halfvec", chunk_ids, base_docs, base_q, "full"),
        (f"base-pca{hi}", "vector", chunk_ids, pca[hi].apply(base_docs), pca[hi].apply(base_q), "full"),
        (f"base-pca{lo}", "vector", chunk_ids, pca[lo].apply(base_docs), pca[lo].apply(base_q), "full"),
        (f"base-pca{lo}-half", "halfvec", chunk_ids, pca[lo].apply(base_docs), pca[lo].apply(base_q),
         "full"),
        ("adapted", "vector", sub_chunk_ids, ad_docs, ad_q, "eval"),
        ("adapted-half", "halfvec", sub_chunk_ids, ad_docs, ad_q, "eval"),
    ]
    sub_filter = None if full else ["scifact-sub"]
    table: dict[str, Any] = dict((result.get("db") or {}).get("spaces") or {})
    base_space = spaces.VectorSpace("base")
    if "base" not in table:
        table["base"] = _run_space(db, base_space, base_q, val_ids, data.queries, data.qrels, chunk_doc)
        if not full:
            table["base"]["on_eval_corpus"] = _run_space(db, base_space, base_q, val_ids, data.queries,
                                                         data.qrels, chunk_doc, sub_filter)
        log.info("base: %s", table["base"])
    for name, storage, ids, docs, qv, covers in plans:
        if name in table or len(docs) == 0:
            continue
        space = spaces.VectorSpace(name, table=spaces.table_for(name), storage=storage,
                                   dimension=docs.shape[1])
        t0 = time.perf_counter()
        with db.session() as s:
            spaces.drop_space(session=s, space=space)
            spaces.create_space(session=s, space=space)
            spaces.write_vectors(session=s, space=space, chunk_ids=ids, vectors=docs)
        t1 = time.perf_counter()
        with db.session() as s:
            spaces.build_index(session=s, space=space)
        t2 = time.perf_counter()
        if covers == "full":
            table[name] = _run_space(db, space, qv, val_ids, data.queries, data.qrels, chunk_doc)
            if not full:
                table[name]["on_eval_corpus"] = _run_space(db, space, qv, val_ids, data.queries,
                                                           data.qrels, chunk_doc, sub_filter)
        else:
            table[name] = {"on_eval_corpus": _run_space(db, space, qv, val_ids, data.queries,
                                                        data.qrels, chunk_doc, sub_filter)}
            with db.session() as s:
                table[name].update(spaces.storage_bytes(session=s, space=space))
        table[name].update(vectors=len(ids), load_s=round(t1 - t0, 1), index_build_s=round(t2 - t1, 1))
        log.info("%s: %s", name, table[name])
        result["db"] = {"spaces": table}
    if have_adapted and "base_rerun" not in table:
        # Measured again last: the first run above pays for cold caches.
        table["base_rerun"] = _run_space(db, base_space, base_q, val_ids, data.queries, data.qrels,
                                         chunk_doc)
    result["db"] = {"validation_queries": len(val_ids), "chunks": len(chunk_ids),
                    "eval_corpus_chunks": len(sub_chunk_ids),
                    "search": "one SQL statement (knowledge.store.search), top 10 of 50 candidates, "
                              "ef_search 100; latency is the SQL only (query embedding excluded)",
                    "spaces": table}
    db.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/eval/scifact-train"))
    p.add_argument("--split", default="train")
    p.add_argument("--work", default="/tmp/lore-adapt")
    p.add_argument("--out", default=None)
    p.add_argument("--stage", choices=["model", "db", "all"], default="all")
    p.add_argument("--validation-fraction", type=float, default=0.2)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-seq", type=int, default=160)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--max-tokens", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--hard-negatives", type=int, default=1)
    p.add_argument("--matryoshka", type=int, nargs="*", default=[])
    p.add_argument("--pca-dims", type=int, nargs=2, default=[256, 128])
    p.add_argument("--model-result", default=None, help="Stage model's JSON, to include (stage db).")
    p.add_argument("--eval-corpus", type=int, default=0,
                   help="Rank over this many documents (judged ones + distractors); 0: all.")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    out = Path(args.out) if args.out else work / "result.json"
    result: dict[str, Any] = json.loads(out.read_text()) if out.exists() and args.stage == "db" else {}
    if args.stage == "db" and args.model_result and Path(args.model_result).exists():
        result["model_stage"] = json.loads(Path(args.model_result).read_text())
    result.setdefault("data", str(args.data))
    t0 = time.perf_counter()
    if args.stage in ("model", "all"):
        stage_model(args, work, result)
        out.write_text(json.dumps(result, indent=2, default=str))
    if args.stage in ("db", "all"):
        stage_db(args, work, result)
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
