"""Choose ABSTAIN_THRESHOLD on a dev split instead of guessing it.

Evidence = the best cosine similarity among the chunks the hybrid retriever returns (what
``bot.answering.abstention`` uses). Three groups of questions on the SciFact train split:

- answerable: a claim whose relevant abstract is among the hits (evidence over all hits);
- missing: the same claims with their relevant abstracts removed from the hits (what the bot
  would see if the knowledge base lacked the answer; the hardest negatives);
- off-topic: everyday team questions the scientific corpus cannot answer.

The threshold maximising balanced accuracy (answerable vs missing + off-topic) is chosen;
the JSON also shows the default's rates and a PNG histogram is written next to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.runtime import open_database  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from knowledge.embeddings import embedder_from_settings  # noqa: E402
from knowledge.evaluation import load_beir  # noqa: E402
from knowledge.store.search import SearchParams, search  # noqa: E402

OFF_TOPIC = [
    "How do I reset my VPN password?", "When is the office closed over the holidays?",
    "Who approves expense reports over 500 euros?", "How do I book a meeting room?",
    "What is the wifi password for guests?", "How do I roll back a production deploy?",
    "Where do I find the on-call schedule?", "What does error E4127 mean?",
    "How many vacation days do new employees get?", "How do I request a new laptop?",
    "What is our policy on remote work from abroad?", "How do I rotate the API keys?",
    "Which Slack channel is for incidents?", "How do I add a teammate to GitHub?",
    "What is the budget for team offsites?", "How do I configure the staging database?",
    "When are performance reviews?", "How do I get access to the data warehouse?",
    "What is the release schedule for the mobile app?", "How do I file a bug report?",
    "Where is the parking garage entrance?", "How do I change my payroll bank account?",
    "What time does the cafeteria close?", "How do I set up two-factor authentication?",
    "Who owns the billing service?", "How do I run the integration tests locally?",
    "What is the SLA for customer support tickets?", "How do I onboard a new contractor?",
    "What is the dress code for client meetings?", "How do I restart the Kafka consumers?",
    "How to cook pasta al dente?", "Who won the football world cup in 2014?",
    "What is the capital of Australia?", "Recommend a good science fiction novel.",
    "How tall is Mount Everest?", "What is the exchange rate of euro to dollar?",
    "How do I fix a flat bicycle tyre?", "What is the best pizza topping?",
    "Translate 'good morning' into Spanish.", "What are the rules of chess castling?",
]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/work/shared/eval/scifact-train")
    p.add_argument("--split", default="train")
    p.add_argument("--data-dir", default="/tmp/lore-bench")
    p.add_argument("--limit-queries", type=int, default=None)
    p.add_argument("--out", default="benchmarks/results/abstention.json")
    p.add_argument("--collection-suffix", default="-whole",
                   help="'-whole' for bench_retrieval's one-chunk-per-abstract collection, '' for "
                        "the pipeline-ingested one")
    args = p.parse_args()
    settings = load_settings(_env_file=None, lorebot_data_dir=args.data_dir, database_url=None)
    db = open_database(settings)
    embedder = embedder_from_settings(settings)
    data = load_beir(args.data, split=args.split)
    col = "eval-" + Path(args.data).resolve().name + args.collection_suffix
    params = SearchParams(collections=[col], top_k=2 * settings.retrieval_top_k,
                          candidates=settings.retrieval_candidates, rrf_k=settings.rrf_k,
                          vector_weight=settings.rrf_vector_weight,
                          keyword_weight=settings.rrf_keyword_weight,
                          ef_search=settings.retrieval_ef_search)
    pos, missing, off = [], [], []

    qids = [q for q in data.qrels if q in data.queries][: args.limit_queries or None]
    if not qids:
        raise SystemExit("no judged queries")
    texts = [data.queries[q] for q in qids] + OFF_TOPIC
    vectors = dict(zip(texts, embedder.embed(texts), strict=True))  # one batched pass

    def hits_for(q: str):  # type: ignore[no-untyped-def]
        with db.session() as s:
            return search(session=s, params=params, query_text=q, query_vector=vectors[q])

    for q in qids:
        hits = hits_for(data.queries[q])
        rel = {f"beir:{d}" for d in data.qrels[q]}
        sims_rel = [h.similarity for h in hits if h.uri in rel and h.similarity is not None]
        sims_other = [h.similarity for h in hits if h.uri not in rel and h.similarity is not None]
        if sims_rel:
            pos.append(max(sims_rel + sims_other))
        missing.append(max(sims_other) if sims_other else 0.0)
    for q in OFF_TOPIC:
        hits = hits_for(q)
        off.append(max([h.similarity for h in hits if h.similarity is not None] or [0.0]))
    db.dispose()
    pos_a, neg_a = np.asarray(pos), np.asarray(missing + off)

    def rates(t: float) -> dict:
        tpr = float((pos_a >= t).mean())
        tnr_missing = float((np.asarray(missing) < t).mean())
        tnr_off = float((np.asarray(off) < t).mean())
        tnr = float((neg_a < t).mean())
        return {"threshold": round(t, 3), "answer_rate_when_answerable": round(tpr, 3),
                "abstain_rate_when_missing": round(tnr_missing, 3),
                "abstain_rate_off_topic": round(tnr_off, 3),
                "balanced_accuracy": round((tpr + tnr) / 2, 3)}

    grid = np.round(np.arange(0.10, 0.90, 0.01), 2)
    # Balanced accuracy weights the two negative groups by their sizes; off-topic is small, so
    # it is averaged as its own class: answering must be right, and so must both abstentions.
    def score(t: float) -> float:
        r = rates(t)
        return (r["answer_rate_when_answerable"] + r["abstain_rate_when_missing"]
                + r["abstain_rate_off_topic"]) / 3

    best = max(grid, key=score)
    out = {
        "evidence": "max cosine similarity among the hybrid top-10 chunks",
        "groups": {"answerable": len(pos), "missing": len(missing), "off_topic": len(off)},
        "medians": {"answerable": round(float(np.median(pos_a)), 3),
                    "missing": round(float(np.median(missing)), 3),
                    "off_topic": round(float(np.median(off)), 3)},
        "chosen": rates(float(best)), "chosen_objective": round(score(float(best)), 3),
        "at_current_setting": rates(settings.abstain_threshold),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4))
        bins = np.linspace(0, 1, 41)
        ax.hist(pos, bins=bins, alpha=0.6, label="answerable", density=True)
        ax.hist(missing, bins=bins, alpha=0.6, label="answer removed", density=True)
        ax.hist(off, bins=bins, alpha=0.6, label="off-topic", density=True)
        ax.axvline(float(best), color="k", linestyle="--", label=f"threshold {best:.2f}")
        ax.set_xlabel("best cosine similarity among retrieved chunks")
        ax.legend()
        fig.tight_layout()
        fig.savefig(Path(args.out).with_suffix(".png"), dpi=110)
    except Exception as exc:  # the numbers matter more than the picture
        print(f"plot skipped: {exc}", file=sys.stderr)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
