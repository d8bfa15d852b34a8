"""From ranked chunks to the passages an answer cites.

Near-identical chunks (the same paragraph copied into two pages) are kept once, and chunks of
one document with neighbouring ordinals are merged into one passage, so a citation points at a
readable span instead of three fragments of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from knowledge.store.search import SearchHit

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Passage:
    hits: list[SearchHit]  # in ordinal order
    score: float  # the best fused score among its chunks
    similarity: float | None  # the best cosine similarity among its chunks
    chunk_ids: list[int] = field(default_factory=list)

    @property
    def first(self) -> SearchHit:
        return self.hits[0]

    @property
    def text(self) -> str:
        return "\n".join(h.text for h in self.hits)

    @property
    def title(self) -> str:
        return self.first.title

    @property
    def uri(self) -> str:
        return self.first.uri

    @property
    def heading(self) -> str:
        return self.first.heading_path

    @property
    def document_id(self) -> int:
        return self.first.document_id

    @property
    def collection(self) -> str:
        return self.first.collection


def _shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: str, b: str) -> float:
    sa, sb = _shingles(a), _shingles(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / max(1, len(sa | sb))


def dedupe(hits: Sequence[SearchHit], *, threshold: float = 0.9) -> list[SearchHit]:
    """Drop hits whose text is near-identical (word 3-gram Jaccard) to a better-ranked hit."""
    kept: list[SearchHit] = []
    for hit in hits:
        if any(jaccard(hit.text, k.text) >= threshold for k in kept):
            continue
        kept.append(hit)
    return kept


def merge_neighbours(hits: Sequence[SearchHit]) -> list[Passage]:
    """Group hits of one document with adjacent ordinals; passages keep the hits' rank order."""
    passages: list[Passage] = []
    for hit in hits:  # best first, so a passage's position is that of its best chunk
        target = next(
            (p for p in passages if p.document_id == hit.document_id
             and any(abs(h.ordinal - hit.ordinal) <= 1 for h in p.hits)),
            None,
        )
        if target is None:
            passages.append(Passage(hits=[hit], score=hit.score, similarity=hit.similarity,
                                    chunk_ids=[hit.chunk_id]))
            continue
        target.hits.append(hit)
        target.hits.sort(key=lambda h: h.ordinal)
        target.chunk_ids.append(hit.chunk_id)
        target.score = max(target.score, hit.score)
        if hit.similarity is not None:
            target.similarity = max(target.similarity or -1.0, hit.similarity)
    # A later hit can bridge two earlier passages of the same document (ordinals 1, 3, then 2).
    merged: list[Passage] = []
    for p in passages:
        other = next((m for m in merged if m.document_id == p.document_id and any(
            abs(a.ordinal - b.ordinal) <= 1 for a in m.hits for b in p.hits)), None)
        if other is None:
            merged.append(p)
            continue
        other.hits = sorted(other.hits + p.hits, key=lambda h: h.ordinal)
        other.chunk_ids += p.chunk_ids
        other.score = max(other.score, p.score)
        sims = [s for s in (other.similarity, p.similarity) if s is not None]
        other.similarity = max(sims) if sims else None
    for p in merged:
        p.chunk_ids = [h.chunk_id for h in p.hits]  # reading order
    return merged


def build_passages(hits: Sequence[SearchHit], *, dedupe_threshold: float = 0.9) -> list[Passage]:
    return merge_neighbours(dedupe(hits, threshold=dedupe_threshold))
