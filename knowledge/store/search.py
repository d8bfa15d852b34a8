"""All of lorebot's search SQL: vector and full-text candidates fused in one statement.

One round trip does the work: the HNSW cosine search and the BM25 keyword search (over the
``chunk_terms`` postings, migration 0003) each produce a ranked candidate list inside the
statement, and one fusion combines them: reciprocal rank fusion (RRF, the default)
``score = w_v / (k + rank_v) + w_k / (k + rank_k)``, or a weighted sum of each arm's scores
normalised over its own candidates (``minmax`` or ``zscore``, see :func:`_fused`). A chunk
found by only one arm still scores from that arm. Everything the answer needs (document,
source freshness, collection) comes back from the same statement, so retrieval costs one
query plus two ``SET LOCAL``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

Mode = Literal["hybrid", "vector", "keyword"]

# BM25's usual constants; chunks are short and similar in length, so b matters little.
BM25_K1 = 1.2
BM25_B = 0.75
MAX_DOC_FREQ = 0.2  # of the chunks: a lexeme in more of them is not searched for
MAX_QUERY_TERMS = 12
# Keyword arm sizes: postings read per question term, and candidates re-scored exactly.
KEYWORD_PER_TERM = 200
KEYWORD_RESCORE = 200
MODES: tuple[str, ...] = ("hybrid", "vector", "keyword")
Fusion = Literal["rrf", "minmax", "zscore"]
FUSIONS: tuple[str, ...] = ("rrf", "minmax", "zscore")


@dataclass(frozen=True)
class SearchParams:
    """What to search and how. ``collections`` is required: search never runs unscoped."""

    collections: Sequence[str]
    top_k: int = 5
    candidates: int = 50
    ef_search: int = 400
    rrf_k: int = 60
    # How the two arms' lists become one: reciprocal rank fusion, or a weighted sum of each
    # arm's scores normalised over its own candidates (min-max to [0, 1], or z-scores).
    # The weights apply to whichever fusion is chosen.
    fusion: Fusion = "rrf"
    vector_weight: float = 1.0
    keyword_weight: float = 1.0
    mode: Mode = "hybrid"
    sources: Sequence[str] | None = None
    metadata: dict[str, Any] | None = None
    # The keyword arm searches the question's ``keyword_max_terms`` rarest lexemes that occur
    # in at most ``keyword_max_doc_freq`` of the chunks: lower is faster on big corpora.
    keyword_max_doc_freq: float = MAX_DOC_FREQ
    keyword_max_terms: int = MAX_QUERY_TERMS
    # Postings read per question term (highest BM25 weight first), and how many of the
    # summed candidates are re-scored exactly; both bound the keyword arm's cost.
    keyword_per_term: int = KEYWORD_PER_TERM
    keyword_rescore: int = KEYWORD_RESCORE

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"search mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if not 1 <= self.top_k <= self.candidates:
            raise ValueError("top_k must be between 1 and candidates")
        if not 1 <= int(self.ef_search) <= 1000:
            raise ValueError("ef_search must be between 1 and 1000")
        if self.rrf_k < 0:
            raise ValueError("rrf_k must not be negative")
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {', '.join(FUSIONS)}, not {self.fusion!r}")
        if self.vector_weight < 0 or self.keyword_weight < 0:
            raise ValueError("fusion weights must not be negative")
        if self.keyword_per_term < 1 or self.keyword_rescore < 1:
            raise ValueError("keyword_per_term and keyword_rescore must be at least 1")


@dataclass
class SearchHit:
    chunk_id: int
    document_id: int
    ordinal: int
    text: str
    heading_path: str
    title: str
    uri: str
    collection: str
    source: str
    similarity: float | None  # cosine similarity, None when the vector arm missed it
    keyword_rank: float | None  # BM25, None when the keyword arm missed it
    vector_position: int | None
    keyword_position: int | None
    score: float  # fused score (RRF, or the weighted normalised scores): for ordering only
    last_success_at: datetime | None
    metadata: dict[str, Any] = field(default_factory=dict)


def vector_literal(vector: Sequence[float] | np.ndarray) -> str:
    """pgvector's text form; bound as a parameter and cast, so it is never spliced into SQL."""
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


@dataclass(frozen=True)
class VectorSource:
    """Where the vector arm reads vectors: ``chunks.embedding`` (``table`` None) or a
    per-version table ``(chunk_id, <column>)`` of another embedding space."""

    table: str | None = None
    column: str = "embedding"
    sql_type: str = "vector"

    def __post_init__(self) -> None:
        # Spliced into SQL (identifiers cannot be bound): only plain names get through.
        if not (_IDENT.match(self.table or "chunks") and _IDENT.match(self.column)
                and _VECTOR_TYPE.match(self.sql_type)):
            raise ValueError(f"unsafe vector source {self.table}.{self.column} {self.sql_type}")


_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_VECTOR_TYPE = re.compile(r"^(vector|halfvec)(\(\d{1,5}\))?$")
BASE_VECTORS = VectorSource()


def _filters(params: SearchParams, alias: str = "c") -> str:
    parts = [f"{alias}.collection_id IN (SELECT id FROM scope)"]
    parts.extend(_extra_filters(params, alias))
    return " AND ".join(parts)


def _extra_filters(params: SearchParams, alias: str) -> list[str]:
    parts = []
    if params.sources:
        parts.append(f"{alias}.source_id IN (SELECT id FROM sources WHERE name = ANY(:sources))")
    if params.metadata:
        parts.append(f"{alias}.metadata @> CAST(:metadata AS jsonb)")
    return parts


def _vector_arm(params: SearchParams, vectors: VectorSource) -> str:
    where = _filters(params)
    if vectors.table is None:
        source, dist = "chunks c", "c.embedding <=> CAST(:q AS vector)"
        where += " AND c.embedding IS NOT NULL"
    else:
        source = f"{vectors.table} v JOIN chunks c ON c.id = v.chunk_id"
        dist = f"v.{vectors.column} <=> CAST(:q AS {vectors.sql_type})"
    return f"""SELECT id, sim, row_number() OVER (ORDER BY dist) AS pos FROM (
              SELECT c.id, {dist} AS dist, 1 - ({dist}) AS sim
              FROM {source} WHERE {where}
              ORDER BY {dist} LIMIT :n) v0"""


def _keyword_arm(params: SearchParams) -> str:
    # BM25 over the question's informative lexemes, OR-ed (a question rarely holds every word
    # of its answer); document frequencies come from ``term_stats`` (knowledge/store/terms.py).
    # Stage 1 reads, per question term and collection, the postings with the highest stored
    # BM25 weight (index ``ix_chunk_terms_lookup``, so the cost does not grow with the corpus)
    # and sums idf x weight. Stage 2 re-scores the leading candidates exactly (tf and chunk
    # length by primary key, today's average length), which also restores the part of a common
    # term that fell outside its list.
    extra = _extra_filters(params, "fc")
    posting_filter = (
        "JOIN chunks fc ON fc.id = ct.chunk_id AND " + " AND ".join(extra) if extra else ""
    )
    return f"""SELECT id, kr, row_number() OVER (ORDER BY kr DESC, id) AS pos FROM (
              SELECT cand.chunk_id AS id, sum(t.idf * (e.tf * (:k1 + 1))
                     / (e.tf + :k1 * (1 - :b + :b * e.dl / st.avglen))) AS kr
              FROM (
                SELECT p.chunk_id FROM qterms t CROSS JOIN scope
                CROSS JOIN LATERAL (
                  SELECT ct.chunk_id, ct.weight FROM chunk_terms ct {posting_filter}
                  WHERE ct.lexeme = t.lexeme AND ct.collection_id = scope.id
                  ORDER BY ct.weight DESC LIMIT :per_term) p
                GROUP BY p.chunk_id ORDER BY sum(t.idf * p.weight) DESC, p.chunk_id
                LIMIT :rescore) cand
              CROSS JOIN qterms t CROSS JOIN st
              JOIN chunk_terms e ON e.chunk_id = cand.chunk_id AND e.lexeme = t.lexeme
              GROUP BY cand.chunk_id ORDER BY kr DESC, cand.chunk_id LIMIT :n) k0"""


def _fused(params: SearchParams) -> str:
    """The ``fused`` CTE: one score per chunk from the two arms' lists.

    Normalised fusion scales each arm over its own candidate list, so cosine (about 0.2-0.8)
    and BM25 (unbounded, question-dependent) become comparable: min-max maps an arm's list to
    [0, 1]; z-score to standard deviations from its mean. A chunk one arm did not return gets
    that arm's lowest value (0, or the list's minimum z): it scored at most the last one kept.
    """
    if params.fusion == "rrf":
        return """fused AS (
  SELECT coalesce(vec.id, kw.id) AS id, vec.sim, kw.kr, vec.pos AS vpos, kw.pos AS kpos,
         coalesce(:wv / (:k + vec.pos), 0) + coalesce(:wk / (:k + kw.pos), 0) AS score
  FROM vec FULL OUTER JOIN kw ON vec.id = kw.id
  ORDER BY score DESC, id LIMIT :top_k
)"""
    if params.fusion == "minmax":
        vnorm = "coalesce((vec.sim - vs.lo) / nullif(vs.hi - vs.lo, 0), 1)"
        knorm = "coalesce((kw.kr - ks.lo) / nullif(ks.hi - ks.lo, 0), 1)"
        vmiss = kmiss = "0"
    else:
        vnorm = "coalesce((vec.sim - vs.mu) / nullif(vs.sd, 0), 0)"
        knorm = "coalesce((kw.kr - ks.mu) / nullif(ks.sd, 0), 0)"
        vmiss = "coalesce((vs.lo - vs.mu) / nullif(vs.sd, 0), 0)"
        kmiss = "coalesce((ks.lo - ks.mu) / nullif(ks.sd, 0), 0)"
    return f"""vs AS (SELECT min(sim) AS lo, max(sim) AS hi, avg(sim) AS mu, stddev_pop(sim) AS sd
       FROM vec),
ks AS (SELECT min(kr) AS lo, max(kr) AS hi, avg(kr) AS mu, stddev_pop(kr) AS sd FROM kw),
fused AS (
  SELECT coalesce(vec.id, kw.id) AS id, vec.sim, kw.kr, vec.pos AS vpos, kw.pos AS kpos,
         :wv * (CASE WHEN vec.id IS NULL THEN {vmiss} ELSE {vnorm} END)
         + :wk * (CASE WHEN kw.id IS NULL THEN {kmiss} ELSE {knorm} END) AS score
  FROM vec FULL OUTER JOIN kw ON vec.id = kw.id CROSS JOIN vs CROSS JOIN ks
  ORDER BY score DESC, id LIMIT :top_k
)"""


def build_sql(params: SearchParams, vectors: VectorSource = BASE_VECTORS) -> str:
    """The fused search statement for ``params`` (only the shape varies; values are bound)."""
    use_vec = params.mode in ("hybrid", "vector")
    use_kw = params.mode in ("hybrid", "keyword")
    vec = (_vector_arm(params, vectors) if use_vec
           else "SELECT NULL::bigint AS id, NULL::float8 AS sim, NULL::bigint AS pos WHERE false")
    kw = (_keyword_arm(params) if use_kw
          else "SELECT NULL::bigint AS id, NULL::float8 AS kr, NULL::bigint AS pos WHERE false")
    return f"""
WITH scope AS (SELECT id, name FROM collections WHERE name = ANY(:collections)),
st AS (SELECT coalesce((SELECT value::float8 FROM lorebot_meta WHERE key = 'term_stats_chunks'), 0) AS n,
              coalesce((SELECT value::float8 FROM lorebot_meta WHERE key = 'term_stats_avglen'), 1)
                AS avglen),
qterms AS MATERIALIZED (
  SELECT q.lexeme, ln(1 + (st.n - ts.ndoc + 0.5) / (ts.ndoc + 0.5)) AS idf
  FROM (SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('english', :qtext))) AS lexeme) q
  JOIN term_stats ts ON ts.lexeme = q.lexeme CROSS JOIN st
  -- a lexeme in a large share of the corpus carries little signal
  WHERE ts.ndoc <= greatest(:max_df * st.n, 100)
  ORDER BY idf DESC, q.lexeme LIMIT :max_terms
),
vec AS MATERIALIZED ({vec}),
kw AS MATERIALIZED ({kw}),
{_fused(params)}
SELECT f.id, c.document_id, c.ordinal, c.text, c.heading_path, d.title, d.uri,
       scope.name AS collection, s.name AS source, f.sim, f.kr, f.vpos, f.kpos, f.score,
       s.last_success_at, c.metadata
FROM fused f
JOIN chunks c ON c.id = f.id
JOIN documents d ON d.id = c.document_id
JOIN sources s ON s.id = c.source_id
JOIN scope ON scope.id = c.collection_id
ORDER BY f.score DESC, f.id
"""


def search(
    *, session: Session, params: SearchParams, query_text: str,
    query_vector: Sequence[float] | np.ndarray | None, vectors: VectorSource = BASE_VECTORS,
) -> list[SearchHit]:
    """Fused top-``params.top_k`` chunks for a question, within ``params.collections``.

    ``query_vector`` must be in the space ``vectors`` reads (same model, same projection).
    """
    if not params.collections:
        return []
    if params.mode != "keyword" and query_vector is None:
        raise ValueError(f"{params.mode} search needs the question's embedding")
    set_search_options(session=session, params=params)
    rows = session.execute(text(build_sql(params, vectors)),
                           bind_params(params, query_text, query_vector)).all()
    return hits_from_rows(rows)


def set_search_options(*, session: Session, params: SearchParams) -> None:
    """The per-transaction HNSW settings a search needs."""
    ef = min(max(int(params.ef_search), int(params.candidates)), 1000)
    # psycopg binds server-side and SET cannot take a parameter: a validated int literal.
    session.execute(text(f"SET LOCAL hnsw.ef_search = {ef:d}"))
    # A collection filter can leave an HNSW scan with too few rows; iterative scans keep going.
    session.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
    # psycopg prepares a statement run 5 times; Postgres then may switch to a generic plan that
    # cannot see the LIMITs and scopes, measured 3-6x slower on 100k chunks. Plan each search.
    session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def bind_params(
    params: SearchParams, query_text: str, query_vector: Sequence[float] | np.ndarray | None
) -> dict[str, Any]:
    """The values for :func:`build_sql`'s statement (any vector space)."""
    bind: dict[str, Any] = {
        "collections": list(params.collections),
        "qtext": query_text,
        "q": vector_literal(query_vector) if query_vector is not None else None,
        "n": int(params.candidates),
        "k": float(params.rrf_k),
        "wv": float(params.vector_weight),
        "wk": float(params.keyword_weight),
        "top_k": int(params.top_k),
        "k1": BM25_K1,
        "b": BM25_B,
        "max_df": float(params.keyword_max_doc_freq),
        "max_terms": int(params.keyword_max_terms),
        "per_term": int(params.keyword_per_term),
        # a candidate list of n needs a deeper pool: 4n re-scored kept Recall@100 exact on SciFact
        "rescore": max(int(params.keyword_rescore), 4 * int(params.candidates)),
    }
    if params.sources:
        bind["sources"] = list(params.sources)
    if params.metadata:
        bind["metadata"] = json.dumps(params.metadata)
    return bind


def hits_from_rows(rows: Sequence[Any]) -> list[SearchHit]:
    return [
        SearchHit(
            chunk_id=r.id, document_id=r.document_id, ordinal=r.ordinal, text=r.text,
            heading_path=r.heading_path, title=r.title, uri=r.uri, collection=r.collection,
            source=r.source, similarity=None if r.sim is None else float(r.sim),
            keyword_rank=None if r.kr is None else float(r.kr),
            vector_position=r.vpos, keyword_position=r.kpos, score=float(r.score),
            last_success_at=r.last_success_at, metadata=dict(r.metadata or {}),
        )
        for r in rows
    ]


def existing_collections(*, session: Session, names: Sequence[str]) -> list[str]:
    """Which of ``names`` exist, so a question scoped to a missing collection is told so."""
    if not names:
        return []
    rows = session.execute(
        text("SELECT name FROM collections WHERE name = ANY(:names) ORDER BY name"),
        {"names": list(names)},
    ).scalars()
    return list(rows)


def chunk_count(*, session: Session, collections: Sequence[str]) -> int:
    """How many searchable chunks the collections hold (0 means an empty knowledge base)."""
    if not collections:
        return 0
    return int(session.execute(
        text("SELECT count(*) FROM chunks c JOIN collections col ON col.id = c.collection_id "
             "WHERE col.name = ANY(:names)"),
        {"names": list(collections)},
    ).scalar_one())


def exact_vector_ids(
    *, session: Session, query_vector: Sequence[float] | np.ndarray, k: int,
    collections: Sequence[str] | None = None,
) -> list[int]:
    """Exact (index-free) nearest chunks, the ground truth HNSW recall is measured against."""
    session.execute(text("SET LOCAL enable_indexscan = off"))
    session.execute(text("SET LOCAL enable_bitmapscan = off"))
    scope = ("AND collection_id IN (SELECT id FROM collections WHERE name = ANY(:cols))"
             if collections else "")
    rows = session.execute(
        text(f"SELECT id FROM chunks WHERE embedding IS NOT NULL {scope} "
             "ORDER BY embedding <=> CAST(:q AS vector) LIMIT :k"),
        {"q": vector_literal(query_vector), "k": int(k), "cols": list(collections or [])},
    ).scalars()
    return list(rows)


def bare_vector_ids(
    *, session: Session, query_vector: Sequence[float] | np.ndarray, k: int, ef_search: int = 100,
) -> list[int]:
    """The plain ``ORDER BY embedding <=> q LIMIT k`` baseline for the latency benchmark."""
    session.execute(text(f"SET LOCAL hnsw.ef_search = {max(1, min(int(ef_search), 1000)):d}"))
    rows = session.execute(
        text("SELECT id FROM chunks ORDER BY embedding <=> CAST(:q AS vector) LIMIT :k"),
        {"q": vector_literal(query_vector), "k": int(k)},
    ).scalars()
    return list(rows)
