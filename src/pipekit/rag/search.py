"""Hybrid search: dense vectors and BM25 keywords, mixed per candidate.

Search takes Milvus' nearest chunks and BM25's best chunks, scores every candidate by exact
cosine and BM25, mixes the two as z-scores, and keeps the cosine of each passage for the
cutoff. Every collection's candidates are scored together.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from pipekit.embeddings import Embedder, embedder_for, hangul_share

from .catalog import CollectionInfo, StoredChunk, check_embedder
from .lexical import best_positions
from .store import VectorStore
from .views import CollectionView

SearchMode = Literal["hybrid", "dense", "bm25"]


@dataclass
class Passage:
    collection: str
    chunk_id: str
    doc_id: str
    title: str
    text: str
    context: str
    metadata: dict[str, Any]
    score: float  # fused rank score: orders the passages
    similarity: float  # cosine to the question (dense embedding): compared with the cutoff

    @property
    def url(self) -> str | None:
        return self.metadata.get("url")


class _Candidate(NamedTuple):
    """A chunk one search may return, with its raw scores (mixed once all are in)."""

    info: CollectionInfo
    chunk: StoredChunk
    cosine: float
    keyword: float  # BM25; 0 when only the vector search found it
    dense_weight: float  # the vector share for this chunk's collection embedder


@dataclass(frozen=True)
class _Question:
    text: str
    mode: SearchMode
    candidates: int  # per collection and per method, before mixing
    filters: dict[str, str] | None


def hybrid_search(
    collections: list[CollectionInfo],
    query: str,
    embedder: Embedder,
    *,
    view_of: Callable[[CollectionInfo], CollectionView],
    store_of: Callable[[CollectionInfo], VectorStore],
    top_k: int = 5,
    mode: SearchMode = "hybrid",
    candidates: int = 40,
    filters: dict[str, str] | None = None,
) -> list[Passage]:
    """The best `top_k` passages of the collections for the query, best first."""
    question = _Question(query, mode, candidates, filters)
    searchers = {info.name: embedder_for(info.embed_model, embedder) for info in collections}
    for info in collections:
        check_embedder(info, searchers[info.name].model_name, None)
    views = {info.name: view_of(info) for info in collections}
    query_vectors: dict[str, np.ndarray] = {}
    # Every collection's candidates are scored together: z-scores taken per collection
    # would rank a weak collection's best chunk beside a strong one's best.
    found: list[_Candidate] = []
    for info in collections:
        view = views[info.name]
        if not view.chunks:
            continue
        searcher = searchers[info.name]
        query_vector = None
        if mode != "bm25":
            if searcher.model_name not in query_vectors:
                query_vectors[searcher.model_name] = searcher.embed_query(query)
            query_vector = query_vectors[searcher.model_name]
        dense_weight = dense_weight_for(query, searcher) if mode == "hybrid" else 1.0
        found += _candidates(question, info, view, store_of, query_vector, dense_weight)
    if not found:
        return []
    scores = _mixed_scores(
        np.array([c.cosine for c in found]) if mode != "bm25" else None,
        np.array([c.keyword for c in found]) if mode != "dense" else None,
        np.array([c.dense_weight for c in found]),
    )
    ordered = sorted(range(len(found)), key=lambda i: (-scores[i], -found[i].cosine))
    return [_passage(found[i], float(scores[i])) for i in ordered[:top_k]]


def _candidates(
    question: _Question,
    info: CollectionInfo,
    view: CollectionView,
    store_of: Callable[[CollectionInfo], VectorStore],
    query_vector: np.ndarray | None,
    dense_weight: float,
) -> list[_Candidate]:
    """One collection's vector and keyword candidates, each with both raw scores."""
    allowed = _filter_mask(view.chunks, question.filters)
    dense: list[int] = []
    keyword: list[int] = []
    bm25 = np.zeros(len(view.chunks), np.float32)
    if query_vector is not None:
        wanted = question.candidates * (4 if question.filters else 1)
        hits = store_of(info).search(query_vector, wanted)
        positions = [view.positions[cid] for cid, _ in hits if cid in view.positions]
        if allowed is not None:
            positions = [p for p in positions if allowed[p]]
        dense = positions[: question.candidates]
    if question.mode != "dense":
        bm25 = view.keywords.scores(question.text, allowed)
        keyword = [int(p) for p in best_positions(bm25, question.candidates)]
    pool = list(dict.fromkeys([*dense, *keyword]))
    # Both scores for every candidate, from the cached vectors and BM25's score of every
    # chunk: a vector candidate outside BM25's best used to count as 0 keywords, which
    # cost git-doc recall@5 0.937 → 0.911.
    cosines = (
        view.vectors[pool] @ query_vector
        if query_vector is not None and len(view.vectors) and pool
        else np.zeros(len(pool), np.float32)
    )
    return [
        _Candidate(info, view.chunks[p], float(c), float(bm25[p]), dense_weight)
        for p, c in zip(pool, cosines, strict=True)
    ]


def _passage(candidate: _Candidate, score: float) -> Passage:
    chunk = candidate.chunk
    return Passage(
        collection=candidate.info.name,
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        title=chunk.title,
        text=chunk.text,
        context=chunk.context,
        metadata=chunk.metadata,
        score=score,
        similarity=candidate.cosine,
    )


def dense_weight_for(query: str, embedder: Embedder) -> float:
    """How much the vector score counts against BM25 in hybrid search.

    Measured on the shipped eval sets: each embedder carries its English weight (0.75 for the
    offline `local` models together, 0.8 for MiniLM alone, 0.7 for an Ollama model) and how far
    it falls for an all-Hangul question: 0.45 for the English-only offline models (they read
    Korean as [UNK]s, so BM25 carries it), 0.15 for `local` (USE reads Korean), 0 for the rest.
    """
    return embedder.dense_weight - embedder.korean_dense_drop * hangul_share(query)


def _mixed_scores(
    dense: np.ndarray | None, keyword: np.ndarray | None, dense_weight: np.ndarray
) -> np.ndarray:
    """Cosine and BM25 as z-scores over the candidates, mixed by weight.

    Z-scores put the two on one scale whatever their spread; on the shipped sets they beat
    min-max mixing and reciprocal rank fusion (recall@5 and MRR both).
    """
    if dense is None or keyword is None:
        return dense if dense is not None else keyword  # type: ignore[return-value]
    return dense_weight * _z(dense) + (1.0 - dense_weight) * _z(keyword)


def _z(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / (values.std() + 1e-9)


def parse_filters(text: str) -> dict[str, str]:
    """`type=md, source=runbooks/*` → {"type": "md", "source": "runbooks/*"}."""
    filters: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"Metadata filter {part.strip()!r} is not KEY=VALUE.")
        filters[key.strip()] = value.strip()
    return filters


def _filter_mask(chunks: list[StoredChunk], filters: dict[str, str] | None) -> np.ndarray | None:
    if not filters:
        return None
    mask = np.zeros(len(chunks), dtype=bool)
    for position, chunk in enumerate(chunks):
        fields = {**chunk.metadata, "doc_id": chunk.doc_id, "title": chunk.title}
        mask[position] = all(
            fnmatch.fnmatchcase(str(fields.get(key, "")), pattern)
            for key, pattern in filters.items()
        )
    return mask
