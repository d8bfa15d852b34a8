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
    result["vector_numpy"] = {"base": before}
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
    ad_docs = _embed_cached(adapted, texts, work / "corpus_adapted.npy")
    ad_val_q = adapted.embed([data.queries[q] for q in val_ids])
    np.save(work / "queries_val_adapted.npy", ad_val_q)
    after = _quality(ad_val_q, ad_docs, doc_ids, val_ids, data.qrels)
    result["vector_numpy"]["adapted"] = after
    log.info("adapted on validation: %s", after)
    # the same train-part queries, to show how much is memorised vs generalised
    ad_train_q = adapted.embed([data.queries[q] for q in fit_ids])
    result["vector_numpy_train_part"] = {
        "base": _quality(base_q_all, base_docs, doc_ids, fit_ids, data.qrels),
        "adapted": _quality(ad_train_q, ad_docs, doc_ids, fit_ids, data.qrels),
    }
    _reductions(result, base_docs, base_val_q, doc_ids, val_ids, data.qrels, "base")
    _reductions(result, ad_docs, ad_val_q, doc_ids, val_ids, data.qrels, "adapted")


def _reductions(result: dict[str, Any], docs: np.ndarray, qv: np.ndarray, doc_ids: list[str],
                val_ids: list[str], qrels: dict[str, dict[str, int]], name: str) -> None:
    table = result.setdefault("reductions_numpy", {}).setdefault(name, {})
    half_d = reduce.to_half(docs)
    table["halfvec"] = _quality(reduce.to_half(qv), half_d, doc_ids, val_ids, qrels)
    for dims in (256, 128):
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
                 base_docs: np.ndarray) -> dict[int, str]:
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

        with db.session() as s:
            write_corpus(session=s, embedder=embedder, collection="scifact", source="scifact",
                         docs=beir_documents(parse(Path(folder), split="train")))
    with db.session() as s:
        rows = s.execute(text("SELECT c.id, d.external_id FROM chunks c "
                              "JOIN documents d ON d.id = c.document_id")).all()
    return {int(c): str(e) for c, e in rows}


def _run_space(db: Any, space: Any, qvecs: np.ndarray, val_ids: list[str], queries: dict[str, str],
               qrels: dict[str, dict[str, int]], chunk_doc: dict[int, str]) -> dict[str, Any]:
    from knowledge.store import spaces
    from knowledge.store.search import SearchParams

    out: dict[str, Any] = {}
    for mode in ("vector", "hybrid"):
        params = SearchParams(collections=["scifact"], mode=mode, top_k=10, candidates=50, ef_search=100)
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
    base_docs = np.load(work / "corpus_base.npy")
    ad_docs = np.load(work / "corpus_adapted.npy")
    base_q = np.load(work / "queries_val_base.npy")
    ad_q = np.load(work / "queries_val_adapted.npy")
    settings, db = _open_db(work)
    chunk_doc = _load_chunks(settings, db, args.data, data, doc_ids, base_docs)
    doc_chunk = {d: c for c, d in chunk_doc.items()}
    chunk_ids = [doc_chunk[d] for d in doc_ids]
    pca = {n: reduce.fit_pca(base_docs, n) for n in (256, 128)}
    plans: list[tuple[str, str, np.ndarray, np.ndarray]] = [
        ("adapted", "vector", ad_docs, ad_q),
        ("base-half", "halfvec", base_docs, base_q),
        ("base-pca256", "vector", pca[256].apply(base_docs), pca[256].apply(base_q)),
        ("base-pca128", "vector", pca[128].apply(base_docs), pca[128].apply(base_q)),
        ("base-pca128-half", "halfvec", pca[128].apply(base_docs), pca[128].apply(base_q)),
        ("adapted-half", "halfvec", ad_docs, ad_q),
    ]
    table: dict[str, Any] = {}
    table["base"] = _run_space(db, spaces.VectorSpace("base"), base_q, val_ids, data.queries,
                               data.qrels, chunk_doc)
    log.info("base: %s", table["base"])
    for name, storage, docs, qv in plans:
        space = spaces.VectorSpace(name, table=spaces.table_for(name), storage=storage,
                                   dimension=docs.shape[1])
        t0 = time.perf_counter()
        with db.session() as s:
            spaces.drop_space(session=s, space=space)
            spaces.create_space(session=s, space=space)
            spaces.write_vectors(session=s, space=space, chunk_ids=chunk_ids, vectors=docs)
        t1 = time.perf_counter()
        with db.session() as s:
            spaces.build_index(session=s, space=space)
        t2 = time.perf_counter()
        table[name] = _run_space(db, space, qv, val_ids, data.queries, data.qrels, chunk_doc)
        table[name].update(load_s=round(t1 - t0, 1), index_build_s=round(t2 - t1, 1))
        log.info("%s: %s", name, table[name])
    result["db"] = {"validation_queries": len(val_ids), "chunks": len(chunk_ids),
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
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    out = Path(args.out) if args.out else work / "result.json"
    result: dict[str, Any] = json.loads(out.read_text()) if out.exists() and args.stage == "db" else {}
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
