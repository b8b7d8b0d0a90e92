"""Hybrid search: dense vectors and BM25 keywords, both in Milvus, mixed per candidate.

Per collection, Milvus returns the chunks nearest the question's vector and the chunks its
BM25 scores highest for the question's keywords. Each candidate needs both scores: the
keyword candidates come with their vectors (their cosine is one dot product here), and the
vector candidates outside the keyword ones are scored by one more BM25 search over their ids.
Then cosine and BM25 are mixed as z-scores over every collection's candidates together, and
each passage keeps its cosine for the cutoff. This process holds the candidates only, never a
collection.

Milvus' own rankers (hybrid_search with RRFRanker or WeightedRanker) mix ranks or rescaled
scores, not z-scores, and ranked the shipped eval sets worse (docs/bench.md).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from pipekit.embeddings import Embedder, embedder_for, hangul_share

from .catalog import CollectionInfo, check_embedder
from .lexical import keyword_terms
from .store import ChunkStore, Hit, StoredChunk, literal

SearchMode = Literal["hybrid", "dense", "bm25"]
# Milvus calls that wait on nothing else (a server runs them side by side; Milvus Lite, in
# this process, at least beside the question's embedding).
_SEARCHES = ThreadPoolExecutor(max_workers=8, thread_name_prefix="pipekit-search")


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
    keyword: float  # BM25; 0 where no keyword of the question occurs
    dense_weight: float  # the vector share for this chunk's collection embedder


@dataclass(frozen=True)
class _Question:
    text: str
    terms: str  # its keywords, as Milvus' BM25 reads them
    mode: SearchMode
    candidates: int  # per collection and per method, before mixing
    filters: dict[str, str] | None


def hybrid_search(
    collections: list[CollectionInfo],
    query: str,
    embedder: Embedder,
    *,
    store_of: Callable[[CollectionInfo], ChunkStore],
    pending_of: Callable[[CollectionInfo], list[str]],
    top_k: int = 5,
    mode: SearchMode = "hybrid",
    candidates: int = 40,
    filters: dict[str, str] | None = None,
) -> list[Passage]:
    """The best `top_k` passages of the collections for the query, best first.

    `pending_of` names a collection's documents being rewritten: left out."""
    terms = keyword_terms(query) if mode != "dense" else ""
    question = _Question(query, terms, mode, candidates, filters)
    searchers = {info.name: embedder_for(info.embed_model, embedder) for info in collections}
    for info in collections:
        check_embedder(info, searchers[info.name].model_name, None)
    wheres = {info.name: _where(filters, pending_of(info)) for info in collections}
    # The keyword searches need no vector: they run while the question is embedded.
    keyword_searches = {
        info.name: _SEARCHES.submit(
            store_of(info).best_keywords,
            terms,
            candidates,
            wheres[info.name],
            vectors=mode == "hybrid",
        )
        for info in collections
        if terms
    }
    query_vectors: dict[str, np.ndarray] = {}
    # Every collection's candidates are scored together: z-scores taken per collection
    # would rank a weak collection's best chunk beside a strong one's best.
    found: list[_Candidate] = []
    for info in collections:
        searcher = searchers[info.name]
        query_vector = None
        if mode != "bm25":
            if searcher.model_name not in query_vectors:
                query_vectors[searcher.model_name] = searcher.embed_query(query)
            query_vector = query_vectors[searcher.model_name]
        dense_weight = dense_weight_for(query, searcher) if mode == "hybrid" else 1.0
        search = keyword_searches.get(info.name)
        keyword = _matching(search.result() if search else [], filters)
        found += _candidates(
            question, store_of(info), info, wheres[info.name], query_vector, keyword, dense_weight
        )
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
    store: ChunkStore,
    info: CollectionInfo,
    where: str,
    query_vector: np.ndarray | None,
    keyword: list[Hit],
    dense_weight: float,
) -> list[_Candidate]:
    """One collection's vector candidates and its keyword ones, each with both raw scores."""
    n = question.candidates
    dense: list[Hit] = []
    if query_vector is not None:
        # Milvus' cosine divides by the question vector's length; the ensemble's question
        # vector is scaled so that a plain dot product is the weighted mean of its models'
        # cosines (passage vectors are unit vectors), which the cutoff is measured against.
        length = float(np.linalg.norm(query_vector))
        dense = _matching(store.nearest(query_vector, n, where), question.filters)
        for hit in dense:
            hit.score *= length
    keyword_score = {hit.chunk.chunk_id: hit.score for hit in keyword}
    if question.mode == "hybrid" and question.terms:
        # A vector candidate outside BM25's best still has its keywords: counting it as 0
        # cost git-doc recall@5 0.937 → 0.911.
        unscored = [hit.chunk.chunk_id for hit in dense if hit.chunk.chunk_id not in keyword_score]
        keyword_score |= store.keyword_scores(question.terms, unscored)
    cosine = {hit.chunk.chunk_id: hit.score for hit in dense}
    pool = {hit.chunk.chunk_id: hit for hit in [*dense, *keyword]}
    return [
        _Candidate(
            info,
            hit.chunk,
            cosine.get(chunk_id, _dot(hit.vector, query_vector)),
            keyword_score.get(chunk_id, 0.0),
            dense_weight,
        )
        for chunk_id, hit in pool.items()
    ]


def _dot(vector: np.ndarray | None, query_vector: np.ndarray | None) -> float:
    if vector is None or query_vector is None:
        return 0.0
    return float(vector @ query_vector)


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


# --- filters ------------------------------------------------------------------------------


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


_GLOB = re.compile(r"\[[^\]]*\]|[*?]")


def _where(filters: dict[str, str] | None, pending: list[str]) -> str:
    """A Milvus filter: the metadata globs as LIKE patterns, pending documents left out.

    LIKE has no escapes in Milvus Lite, so a literal '%' or '_' in a glob matches more than it
    should there: `_matching` checks every hit against the glob itself."""
    clauses = [f"doc_id not in {literal(pending)}"] if pending else []
    for key, pattern in (filters or {}).items():
        field = key if key in ("doc_id", "title") else f"metadata[{literal(key)}]"
        like = _GLOB.sub(lambda m: "%" if m.group() == "*" else "_", pattern)
        clauses.append(f"{field} like {literal(like)}")
    return " and ".join(clauses)


def _matching(hits: list[Hit], filters: dict[str, str] | None) -> list[Hit]:
    if not filters:
        return hits
    return [hit for hit in hits if _matches(hit.chunk, filters)]


def _matches(chunk: StoredChunk, filters: dict[str, str]) -> bool:
    fields = {**chunk.metadata, "doc_id": chunk.doc_id, "title": chunk.title}
    return all(
        fnmatch.fnmatchcase(str(fields.get(key, "")), pattern) for key, pattern in filters.items()
    )
