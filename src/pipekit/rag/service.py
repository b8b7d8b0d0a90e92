"""One `RagIndex` per data dir and Milvus target in a process, shared by pipes and tools."""

from __future__ import annotations

import threading
from pathlib import Path

from pipekit.settings import data_dir as default_data_dir

from .index import RagIndex
from .store import LITE_IDLE_S, StoreConfig

_INDEXES: dict[tuple[str, StoreConfig], RagIndex] = {}
_LOCK = threading.Lock()


def shared_index(data_dir: Path | None, store: StoreConfig) -> RagIndex:
    root = Path(data_dir) if data_dir else default_data_dir()
    key = (str(root.resolve()), store)
    with _LOCK:
        index = _INDEXES.get(key)
        if index is None:
            # Inside the server, Milvus Lite is let go when idle so `pipekit ingest` can run.
            index = RagIndex(root, store, release_idle_s=LITE_IDLE_S)
            _INDEXES[key] = index
        return index


def close_all() -> None:
    with _LOCK:
        indexes = list(_INDEXES.values())
        _INDEXES.clear()
    for index in indexes:
        index.close()
