"""Collections: incremental ingestion and hybrid (dense + BM25) search.

One `RagIndex` per data dir and Milvus target. Ingestion compares content hashes: only new
or changed documents are chunked and embedded (and a vector already computed for the same
text is reused), vanished documents are removed, and a run killed half-way leaves documents
marked pending that the next run redoes. Search takes Milvus' nearest chunks and BM25's best
chunks, scores every candidate by exact cosine and BM25, mixes the two as z-scores, and keeps
the cosine of each passage for the cutoff.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

from pipekit.settings import data_dir as default_data_dir

from .catalog import Catalog, CollectionError, CollectionInfo, StoredChunk, check_embedder
from .chunking import (
    DEFAULT_CHUNK_OVERLAP,
    DEFAULT_CHUNK_SIZE,
    Chunk,
    chunk_document,
    indexed_text,
    splitter_for,
)
from .embedding import Embedder, embedder_for, hangul_share
from .lexical import KeywordIndex, best_positions
from .sources import SourceDocument, SourceItem
from .store import LITE_IDLE_S, StoreConfig, VectorStore

log = logging.getLogger(__name__)

SearchMode = Literal["hybrid", "dense", "bm25"]
# Chunks per batch. Batch k+1 is embedded while batch k is written, so the write of the last
# batch is all that is not hidden behind embedding: small batches keep that tail short.
_EMBED_BATCH = 64


@dataclass
class IngestSummary:
    collection: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (doc id, reason)
    chunks_embedded: int = 0
    chunks_reused: int = 0
    chunks_written: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        lines = [
            f"{self.collection}: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.removed} removed, {len(self.skipped)} skipped "
            f"({self.chunks_written} chunks written, {self.chunks_embedded} embedded, "
            f"{self.chunks_reused} reused, {self.seconds:.1f} s)"
        ]
        lines += [f"  skipped {doc_id}: {reason}" for doc_id, reason in self.skipped]
        return lines


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


@dataclass
class _CollectionView:
    """What searching one collection version needs in memory; rebuilt when it changes."""

    version: int
    chunks: list[StoredChunk]
    positions: dict[str, int]
    keywords: KeywordIndex
    vectors: np.ndarray  # rows align with chunks


class RagIndex:
    def __init__(
        self,
        data_dir: Path | None = None,
        store: StoreConfig | None = None,
        *,
        release_idle_s: float | None = None,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.store_config = store or StoreConfig.from_env()
        self.catalog = Catalog(self.data_dir / "rag" / "catalog.sqlite")
        self._stores: dict[str, VectorStore] = {}
        self._views: dict[str, _CollectionView] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        if release_idle_s:
            threading.Thread(
                target=self._release_idle,
                args=(release_idle_s,),
                name="pipekit-rag-idle",
                daemon=True,
            ).start()

    # --- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            stores = list(self._stores.values())
            self._stores.clear()
        for store in stores:
            store.close()
        self.catalog.close()

    def _release_idle(self, idle_s: float) -> None:
        """Let go of Milvus Lite when unused, so `pipekit ingest` can open the file."""
        while not self._closed.wait(min(idle_s, LITE_IDLE_S) / 2):
            with self._lock:
                stores = list(self._stores.values())
            if stores and all(time.monotonic() - s.last_used > idle_s for s in stores):
                for store in stores:
                    if store.lite:
                        store.close()

    def vector_store(self, info: CollectionInfo) -> VectorStore:
        with self._lock:
            store = self._stores.get(info.name)
            if store is None:
                store = VectorStore(self.store_config, self.data_dir, info.name, info.dimension)
                self._stores[info.name] = store
            return store

    # --- ingestion ------------------------------------------------------------------------

    def ingest(
        self,
        collection: str,
        items: Iterable[SourceItem],
        embedder: Embedder,
        *,
        owner: str | None = None,
        chat_id: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
        remove_missing: bool = True,
        wait_s: float = 120.0,
        on_document: Callable[[str], None] | None = None,
    ) -> IngestSummary:
        started = time.monotonic()
        summary = IngestSummary(collection)
        existing = self.catalog.collection(collection)
        if existing is not None:
            embedder = embedder_for(existing.embed_model, embedder)
        info = self.catalog.ensure_collection(
            collection, embedder.model_name, embedder.dimension, owner=owner, chat_id=chat_id
        )
        store = self.vector_store(info)
        known = self.catalog.document_hashes(collection)
        seen: set[str] = set()
        origins: set[str] = set()
        batch: list[tuple[SourceDocument, list[Chunk]]] = []
        batch_chunks = 0
        # A pipeline of three: this thread reads and chunks, one worker embeds, one writes
        # (Milvus and the catalog) what was embedded before. Embedding dominates; the rest
        # runs beside it on the other core.
        splitter_for(chunk_size, chunk_overlap)  # imports LlamaIndex before the workers start
        embedding = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipekit-embed")
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipekit-write")
        # Opening Milvus (Lite starts a server) takes most of a second: the first batch is
        # read, chunked and embedded meanwhile, and waits for it only to write.
        opener = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipekit-open")
        opened = opener.submit(store.open, wait_s)
        opener.shutdown(wait=False)
        in_flight: list[Future] = []  # writes not yet finished, oldest first
        failed = threading.Event()  # after one batch fails, later ones are not written

        def submit(batch: list[tuple[SourceDocument, list[Chunk]]]) -> None:
            while len(in_flight) >= 2 or (in_flight and in_flight[0].done()):
                in_flight.pop(0).result()  # in order, and the first failure stops the run
            vectors = embedding.submit(self._embed_batch, embedder, batch, summary)
            write = (info, store, opened, vectors, batch, known, summary, wait_s, failed)
            in_flight.append(writer.submit(self._write_batch, *write))

        try:
            for item in items:
                if on_document:
                    on_document(item.doc_id)
                origins.add(item.origin)
                seen.add(item.doc_id)
                if not isinstance(item, SourceDocument):
                    summary.skipped.append((item.doc_id, item.reason))
                    continue
                previous = known.get(item.doc_id)
                if previous and previous[0] == item.content_hash:
                    summary.unchanged += 1
                    continue
                if previous:
                    summary.updated += 1
                else:
                    summary.added += 1
                chunks = chunk_document(item, chunk_size=chunk_size, chunk_overlap=chunk_overlap)
                batch.append((item, chunks))
                batch_chunks += len(chunks)
                if batch_chunks >= _EMBED_BATCH:
                    submit(batch)
                    batch, batch_chunks = [], 0
            if batch:
                submit(batch)
            while in_flight:
                in_flight.pop(0).result()
            opened.result()  # a run with nothing new still checks that the store is there
        except BaseException:
            failed.set()
            raise
        finally:
            # After a failure, batches still queued are dropped, not embedded for nothing.
            embedding.shutdown(wait=True, cancel_futures=failed.is_set())
            writer.shutdown(wait=True, cancel_futures=failed.is_set())
        if remove_missing:
            for doc_id, (_, origin) in known.items():
                if doc_id not in seen and origin in origins:
                    store.delete_document(doc_id, wait_s)
                    self.catalog.remove_document(collection, doc_id)
                    summary.removed += 1
        if summary.chunks_written or summary.removed:
            store.flush(wait_s)
        summary.seconds = time.monotonic() - started
        return summary

    def _embed_batch(
        self,
        embedder: Embedder,
        batch: list[tuple[SourceDocument, list[Chunk]]],
        summary: IngestSummary,
    ) -> tuple[np.ndarray, list[str]]:
        """The batch's vectors and their text hashes, in chunk order."""
        all_chunks = [chunk for _, chunks in batch for chunk in chunks]
        texts = [c.embedded_text for c in all_chunks]
        hashes = [text_hash(embedder.model_name, text) for text in texts]
        vectors = self.embed_cached(embedder, texts, hashes, summary)
        return vectors, hashes

    def _write_batch(
        self,
        info: CollectionInfo,
        store: VectorStore,
        opened: Future,
        embedded: Future,
        batch: list[tuple[SourceDocument, list[Chunk]]],
        known: dict[str, tuple[str, str]],
        summary: IngestSummary,
        wait_s: float,
        failed: threading.Event,
    ) -> None:
        if failed.is_set():
            raise RuntimeError("an earlier batch failed")  # never written out of order
        try:
            vectors, hashes = embedded.result()
            opened.result()
            all_chunks = [chunk for _, chunks in batch for chunk in chunks]
            for document, _ in batch:
                self.catalog.mark_pending(
                    info.name, document.doc_id, document.title, document.origin
                )
                if document.doc_id in known:
                    store.delete_document(document.doc_id, wait_s)
            rows = [
                {"chunk_id": c.chunk_id, "doc_id": c.doc_id, "text": c.text} for c in all_chunks
            ]
            if rows:
                store.add(rows, vectors, wait_s)
            offset = 0
            for document, chunks in batch:
                self.catalog.replace_document(
                    info.name,
                    doc_id=document.doc_id,
                    content_hash=document.content_hash,
                    title=document.title,
                    origin=document.origin,
                    metadata=document.metadata,
                    chunks=chunks,
                    text_hashes=hashes[offset : offset + len(chunks)],
                )
                offset += len(chunks)
            summary.chunks_written += len(all_chunks)
        except BaseException:
            failed.set()
            raise

    def embed_cached(
        self,
        embedder: Embedder,
        texts: list[str],
        hashes: list[str],
        summary: IngestSummary | None = None,
    ) -> np.ndarray:
        """Vectors for texts; each distinct text is embedded at most once, ever."""
        cached = self.catalog.cached_vectors(embedder.model_name, list(set(hashes)))
        missing = {digest: text for digest, text in zip(hashes, texts, strict=True)}
        missing = {digest: text for digest, text in missing.items() if digest not in cached}
        if missing:
            fresh = embedder.embed_array(list(missing.values()))
            new = dict(zip(missing, fresh, strict=True))
            self.catalog.cache_vectors(embedder.model_name, new)
            cached.update(new)
        if summary is not None:
            summary.chunks_embedded += len(missing)
            summary.chunks_reused += len(hashes) - len(missing)
        if not hashes:
            return np.zeros((0, embedder.dimension), dtype=np.float32)
        return np.stack([cached[digest] for digest in hashes]).astype(np.float32)

    def drop(self, collection: str) -> None:
        info = self.catalog.collection(collection)
        if info is None:
            raise CollectionError(f"There is no collection {collection!r}.")
        self.vector_store(info).drop(wait_s=120)
        with self._lock:
            self._stores.pop(collection, None)
            self._views.pop(collection, None)
        self.catalog.drop_collection(collection)

    # --- search ---------------------------------------------------------------------------

    def readable_collections(
        self, names: list[str], user_id: str | None, chat_id: str | None
    ) -> list[CollectionInfo]:
        """The named collections this user may read; an unknown or foreign one is an error
        that does not reveal whether it exists."""
        readable = []
        for name in names:
            info = self.catalog.collection(name)
            if info is None or not info.readable_by(user_id, chat_id):
                known = [c.name for c in self.catalog.collections() if c.owner is None]
                raise CollectionError(
                    f"There is no collection {name!r}. Shared collections: "
                    f"{', '.join(known) or 'none yet — run `pipekit ingest`'}."
                )
            readable.append(info)
        return readable

    def search(
        self,
        collections: list[CollectionInfo],
        query: str,
        embedder: Embedder,
        *,
        top_k: int = 5,
        mode: SearchMode = "hybrid",
        candidates: int = 40,
        filters: dict[str, str] | None = None,
    ) -> list[Passage]:
        searchers = {info.name: embedder_for(info.embed_model, embedder) for info in collections}
        for info in collections:
            check_embedder(info, searchers[info.name].model_name, None)
        views = {info.name: self._view(info) for info in collections}
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
            allowed = _filter_mask(view.chunks, filters)
            dense: list[int] = []
            keyword: list[int] = []
            bm25 = np.zeros(len(view.chunks), np.float32)
            if query_vector is not None:
                hits = self.vector_store(info).search(
                    query_vector, candidates * (4 if filters else 1)
                )
                positions = [view.positions[cid] for cid, _ in hits if cid in view.positions]
                if allowed is not None:
                    positions = [p for p in positions if allowed[p]]
                dense = positions[:candidates]
            if mode != "dense":
                bm25 = view.keywords.scores(query, allowed)
                keyword = [int(p) for p in best_positions(bm25, candidates)]
            pool = list(dict.fromkeys([*dense, *keyword]))
            # Both scores for every candidate, from the cached vectors and BM25's score of every
            # chunk: a vector candidate outside BM25's best used to count as 0 keywords, which
            # cost git-doc recall@5 0.937 → 0.911.
            cosines = (
                view.vectors[pool] @ query_vector
                if query_vector is not None and len(view.vectors) and pool
                else np.zeros(len(pool), np.float32)
            )
            found += [
                _Candidate(info, view.chunks[p], float(c), float(bm25[p]), dense_weight)
                for p, c in zip(pool, cosines, strict=True)
            ]
        if not found:
            return []
        scores = _mixed_scores(
            np.array([c.cosine for c in found]) if mode != "bm25" else None,
            np.array([c.keyword for c in found]) if mode != "dense" else None,
            np.array([c.dense_weight for c in found]),
        )
        ordered = sorted(range(len(found)), key=lambda i: (-scores[i], -found[i].cosine))
        passages = []
        for i in ordered[:top_k]:
            info, chunk, similarity = found[i].info, found[i].chunk, found[i].cosine
            passages.append(
                Passage(
                    collection=info.name,
                    chunk_id=chunk.chunk_id,
                    doc_id=chunk.doc_id,
                    title=chunk.title,
                    text=chunk.text,
                    context=chunk.context,
                    metadata=chunk.metadata,
                    score=float(scores[i]),
                    similarity=similarity,
                )
            )
        return passages

    def _view(self, info: CollectionInfo) -> _CollectionView:
        current = self.catalog.collection(info.name)
        version = current.version if current else -1
        with self._lock:
            view = self._views.get(info.name)
        if view is not None and view.version == version:
            return view
        chunks = self.catalog.chunks(info.name)
        cached = self.catalog.cached_vectors(info.embed_model, [c.text_hash for c in chunks])
        vectors = (
            np.stack(
                [cached.get(c.text_hash, np.zeros(info.dimension, np.float32)) for c in chunks]
            )
            if chunks
            else np.zeros((0, info.dimension), np.float32)
        )
        view = _CollectionView(
            version=version,
            chunks=chunks,
            positions={c.chunk_id: i for i, c in enumerate(chunks)},
            keywords=KeywordIndex(
                [indexed_text(c.doc_id, c.context, c.text) for c in chunks],
                [c.doc_id for c in chunks],
            ),
            vectors=vectors,
        )
        with self._lock:
            self._views[info.name] = view
        return view


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


def text_hash(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()


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
