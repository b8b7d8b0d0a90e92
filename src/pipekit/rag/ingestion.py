"""Ingestion: read → chunk → embed → write, incremental.

Ingestion compares content hashes: only new or changed documents are chunked and embedded
(an edited document reuses the vectors of the passages it kept), vanished documents are
removed, and a run killed half-way leaves documents marked pending that the next run redoes.

The stages overlap: the caller's thread reads and chunks, one worker embeds batch k+1 while
another writes batch k (keywords, Milvus, the catalog). Embedding dominates; the rest runs
beside it on the other core.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipekit.embeddings import Embedder

from .catalog import Catalog, CollectionInfo
from .chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, Chunk, chunk_document, splitter_for
from .lexical import keyword_terms_many
from .sources import SourceDocument, SourceItem
from .store import ChunkStore

# Chunks per batch. Batch k+1 is embedded while batch k is written, so the write of the last
# batch is all that is not hidden behind embedding: small batches keep that tail short.
_EMBED_BATCH = 64

Batch = list[tuple[SourceDocument, list[Chunk]]]


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


def text_hash(model: str, text: str) -> str:
    """What a chunk's vector was computed from: an edited document's unchanged passages keep
    their vectors."""
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()


class Ingestion:
    """One run of sources into one collection; `run` once."""

    def __init__(
        self,
        catalog: Catalog,
        info: CollectionInfo,
        store: ChunkStore,
        embedder: Embedder,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
        remove_missing: bool = True,
        wait_s: float = 120.0,
        on_document: Callable[[str], None] | None = None,
    ) -> None:
        self.catalog, self.info, self.store, self.embedder = catalog, info, store, embedder
        self.chunk_size, self.chunk_overlap = chunk_size, chunk_overlap
        self.remove_missing = remove_missing
        self.wait_s = wait_s
        self.on_document = on_document
        self.summary = IngestSummary(info.name)
        self._known = catalog.document_hashes(info.name)  # doc id -> (content hash, origin)
        self._seen: set[str] = set()
        self._origins: set[str] = set()

    def run(self, items: Iterable[SourceItem]) -> IngestSummary:
        started = time.monotonic()
        self._embed_and_write(self._changed_documents(items))
        if self.remove_missing:
            self._remove_vanished()
        if self.summary.chunks_written or self.summary.removed:
            self.store.flush(self.wait_s)
        self.summary.seconds = time.monotonic() - started
        return self.summary

    # --- read and chunk (this thread) -----------------------------------------------------

    def _changed_documents(self, items: Iterable[SourceItem]) -> Iterator[Batch]:
        """New and changed documents, chunked, in batches of about _EMBED_BATCH chunks; the
        rest is counted in the summary."""
        batch: Batch = []
        batch_chunks = 0
        for item in items:
            if self.on_document:
                self.on_document(item.doc_id)
            self._origins.add(item.origin)
            self._seen.add(item.doc_id)
            if not isinstance(item, SourceDocument):
                self.summary.skipped.append((item.doc_id, item.reason))
                continue
            previous = self._known.get(item.doc_id)
            if previous and previous[0] == item.content_hash:
                self.summary.unchanged += 1
                continue
            if previous:
                self.summary.updated += 1
            else:
                self.summary.added += 1
            chunks = chunk_document(
                item, chunk_size=self.chunk_size, chunk_overlap=self.chunk_overlap
            )
            batch.append((item, chunks))
            batch_chunks += len(chunks)
            if batch_chunks >= _EMBED_BATCH:
                yield batch
                batch, batch_chunks = [], 0
        if batch:
            yield batch

    def _embed_and_write(self, batches: Iterator[Batch]) -> None:
        """Each batch embedded on one worker and written on another, in order; at most two
        writes queued, and the first failure stops the run."""
        splitter_for(self.chunk_size, self.chunk_overlap)  # imports LlamaIndex before the workers
        embedding = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipekit-embed")
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipekit-write")
        # Opening Milvus (Lite starts a server) takes most of a second: the first batch is
        # read, chunked and embedded meanwhile, and waits for it only to write.
        opener = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipekit-open")
        opened = opener.submit(self.store.open, self.wait_s)
        opener.shutdown(wait=False)
        in_flight: list[Future] = []  # writes not yet finished, oldest first
        failed = threading.Event()  # after one batch fails, later ones are not written
        try:
            for batch in batches:
                while len(in_flight) >= 2 or (in_flight and in_flight[0].done()):
                    in_flight.pop(0).result()  # in order, and the first failure stops the run
                vectors = embedding.submit(self._embed, batch)
                in_flight.append(writer.submit(self._write, batch, vectors, opened, failed))
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

    # --- embed (a worker) -----------------------------------------------------------------

    def _embed(self, batch: Batch) -> tuple[np.ndarray, list[str]]:
        """The batch's vectors and their text hashes, in chunk order."""
        texts = [chunk.embedded_text for _, chunks in batch for chunk in chunks]
        hashes = [text_hash(self.embedder.model_name, text) for text in texts]
        kept: dict[str, np.ndarray] = {}
        for document, _ in batch:  # read before the write deletes the old chunks
            if document.doc_id in self._known:
                kept |= self.store.document_vectors(document.doc_id, self.wait_s)
        return self._kept_or_embedded(texts, hashes, kept), hashes

    def _kept_or_embedded(
        self, texts: list[str], hashes: list[str], cached: dict[str, np.ndarray]
    ) -> np.ndarray:
        """Vectors for texts; each distinct text of a batch is embedded once."""
        missing = {digest: text for digest, text in zip(hashes, texts, strict=True)}
        missing = {digest: text for digest, text in missing.items() if digest not in cached}
        if missing:
            fresh = self.embedder.embed_array(list(missing.values()))
            cached.update(zip(missing, fresh, strict=True))
        self.summary.chunks_embedded += len(missing)
        self.summary.chunks_reused += len(hashes) - len(missing)
        if not hashes:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        return np.stack([cached[digest] for digest in hashes]).astype(np.float32)

    # --- write (another worker) -----------------------------------------------------------

    def _write(
        self, batch: Batch, embedded: Future, opened: Future, failed: threading.Event
    ) -> None:
        if failed.is_set():
            raise RuntimeError("an earlier batch failed")  # never written out of order
        try:
            vectors, hashes = embedded.result()
            opened.result()
            rows = chunk_rows(batch, vectors, hashes)
            for document, _ in batch:
                self.catalog.mark_pending(
                    self.info.name, document.doc_id, document.title, document.origin
                )
                if document.doc_id in self._known:
                    self.store.delete_document(document.doc_id, self.wait_s)
            if rows:
                self.store.add(rows, self.wait_s)
            for document, _ in batch:
                self.catalog.replace_document(
                    self.info.name,
                    doc_id=document.doc_id,
                    content_hash=document.content_hash,
                    title=document.title,
                    origin=document.origin,
                    metadata=document.metadata,
                )
            self.summary.chunks_written += len(rows)
        except BaseException:
            failed.set()
            raise

    def _remove_vanished(self) -> None:
        """Documents gone from the sources this run read; other sources' stay."""
        for doc_id, (_, origin) in self._known.items():
            if doc_id not in self._seen and origin in self._origins:
                self.store.delete_document(doc_id, self.wait_s)
                self.catalog.remove_document(self.info.name, doc_id)
                self.summary.removed += 1


def chunk_rows(batch: Batch, vectors: np.ndarray, hashes: list[str]) -> list[dict[str, Any]]:
    """What Milvus holds of each chunk (store.ChunkStore.add): text for citations, the document's
    title and metadata for filters, keywords for BM25 (file path words, title and headings
    too), the vector."""
    chunks = [(document, chunk) for document, chunks in batch for chunk in chunks]
    keywords = keyword_terms_many([chunk.indexed_text for _, chunk in chunks])
    return [
        {
            "id": chunk.chunk_id,
            "doc_id": chunk.doc_id,
            "title": document.title,
            "context": chunk.context,
            "text": chunk.text,
            "text_hash": digest,
            "metadata": document.metadata,
            "keywords": terms,
            "vector": vector,
        }
        for (document, chunk), terms, digest, vector in zip(
            chunks, keywords, hashes, vectors, strict=True
        )
    ]
