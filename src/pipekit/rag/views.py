"""What searching a collection needs in memory, kept per collection version.

A view holds a collection's chunks, their BM25 index and their vectors (read from the
catalog's vector cache, not from Milvus). It is built on the first search after the
collection changes, so an ingest that runs beside the server shows up at the next question.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from .catalog import Catalog, CollectionInfo, StoredChunk
from .chunking import indexed_text
from .lexical import KeywordIndex


@dataclass
class CollectionView:
    version: int
    chunks: list[StoredChunk]
    positions: dict[str, int]  # chunk id -> its row in chunks and vectors
    keywords: KeywordIndex
    vectors: np.ndarray  # rows align with chunks


class CollectionViews:
    """One view per collection, rebuilt when the catalog's version of it moves on."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._views: dict[str, CollectionView] = {}
        self._lock = threading.Lock()

    def of(self, info: CollectionInfo) -> CollectionView:
        current = self._catalog.collection(info.name)
        version = current.version if current else -1
        with self._lock:
            view = self._views.get(info.name)
        if view is not None and view.version == version:
            return view
        view = self._build(info, version)
        with self._lock:
            self._views[info.name] = view
        return view

    def forget(self, name: str) -> None:
        with self._lock:
            self._views.pop(name, None)

    def _build(self, info: CollectionInfo, version: int) -> CollectionView:
        chunks = self._catalog.chunks(info.name)
        cached = self._catalog.cached_vectors(info.embed_model, [c.text_hash for c in chunks])
        vectors = (
            np.stack(
                [cached.get(c.text_hash, np.zeros(info.dimension, np.float32)) for c in chunks]
            )
            if chunks
            else np.zeros((0, info.dimension), np.float32)
        )
        return CollectionView(
            version=version,
            chunks=chunks,
            positions={c.chunk_id: i for i, c in enumerate(chunks)},
            keywords=KeywordIndex(
                [indexed_text(c.doc_id, c.context, c.text) for c in chunks],
                [c.doc_id for c in chunks],
            ),
            vectors=vectors,
        )
