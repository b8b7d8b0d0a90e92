"""Collections: the front over the catalog, the chunk stores, ingestion and search.

One `RagIndex` per data dir and Milvus target. It owns the stores' lifecycle; ingestion.py
reads, chunks, embeds and writes, search.py ranks what Milvus finds. Nothing of a collection
is held in memory here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from pipekit.embeddings import Embedder, embedder_for
from pipekit.settings import data_dir as default_data_dir
from pipekit.stores import LockHeld

from .catalog import Catalog, CollectionError, CollectionInfo
from .chunking import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE
from .ingestion import Ingestion, IngestSummary
from .search import Passage, SearchMode, hybrid_search
from .sources import SourceItem
from .store import LITE_IDLE_S, ChunkStore, StoreConfig


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
        self._stores: dict[str, ChunkStore] = {}
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

    def chunk_store(self, info: CollectionInfo) -> ChunkStore:
        with self._lock:
            store = self._stores.get(info.name)
            if store is None:
                store = ChunkStore(self.store_config, self.data_dir, info.name, info.dimension)
                self._stores[info.name] = store
            return store

    # --- collections -----------------------------------------------------------------------

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
        """Bring a collection up to date with its sources, creating it on first use. One run
        per collection at a time, across processes and replicas: another waits up to
        `wait_s` for it, then gives up saying where it runs."""
        try:
            with self.catalog.database.lock(f"ingest of {collection}", wait_s=wait_s):
                existing = self.catalog.collection(collection)
                if existing is not None:
                    embedder = embedder_for(existing.embed_model, embedder)
                info = self.catalog.ensure_collection(
                    collection,
                    embedder.model_name,
                    embedder.dimension,
                    owner=owner,
                    chat_id=chat_id,
                )
                ingestion = Ingestion(
                    self.catalog,
                    info,
                    self.chunk_store(info),
                    embedder,
                    chunk_size=chunk_size,
                    chunk_overlap=chunk_overlap,
                    remove_missing=remove_missing,
                    wait_s=wait_s,
                    on_document=on_document,
                )
                return ingestion.run(items)
        except LockHeld as busy:  # only taking the lock raises it
            raise CollectionError(f"{busy} Run this again once it is done.") from None

    def drop(self, collection: str) -> None:
        info = self.catalog.collection(collection)
        if info is None:
            raise CollectionError(f"There is no collection {collection!r}.")
        self.chunk_store(info).drop(wait_s=120)
        with self._lock:
            self._stores.pop(collection, None)
        self.catalog.drop_collection(collection)

    def counts(self, collection: str, wait_s: float = 120.0) -> tuple[int, int]:
        """(documents, chunks) of a collection."""
        info = self.catalog.collection(collection)
        if info is None:
            raise CollectionError(f"There is no collection {collection!r}.")
        return self.catalog.document_count(collection), self.chunk_store(info).count(wait_s)

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
        """Hybrid search over readable collections (see search.py)."""
        return hybrid_search(
            collections,
            query,
            embedder,
            store_of=self.chunk_store,
            pending_of=lambda info: self.catalog.pending_documents(info.name),
            top_k=top_k,
            mode=mode,
            candidates=candidates,
            filters=filters,
        )
