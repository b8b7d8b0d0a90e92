"""Vectors in Milvus, through LlamaIndex's MilvusVectorStore.

Default: a Milvus Lite file in the data dir, embedded in this process. Milvus Lite lets one
process at a time open a file, so the server lets go of it after a short idle time and
`pipekit ingest` waits for it (and the other way round). With `MILVUS_URI` set to a Milvus
server, the same index settings apply (Milvus Lite 3 builds HNSW with faiss).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
# Milvus Lite's gRPC adapter logs a traceback for every call pymilvus probes that it does not
# implement (AllocTimestamp); nothing is wrong, and users must not read that as a failure.
logging.getLogger("grpc._server").setLevel(logging.CRITICAL)

LITE_FILE = "milvus.db"
# The server lets go of an idle Milvus Lite file so `pipekit ingest` can open it.
LITE_IDLE_S = 20.0


class StoreError(RuntimeError):
    """Milvus is down, busy or refused: the message names it and says what to do."""


# Vector index types a collection can be built with, on Milvus Lite and a Milvus server alike.
INDEX_TYPES = ("HNSW", "IVF_FLAT", "FLAT")
IVF_NLIST = 128  # IVF_FLAT clusters; a search probes IVF_NPROBE of them
IVF_NPROBE = 16


@dataclass(frozen=True)
class StoreConfig:
    """Where vectors live and how a new collection is indexed.

    The index type, M and efConstruction are fixed when a collection is created (re-index with
    `--rebuild` to change them); ef applies to every search.
    """

    uri: str = ""  # empty: Milvus Lite in the data dir
    token: str = ""
    index_type: str = "HNSW"
    hnsw_m: int = 16
    hnsw_ef_construction: int = 200
    hnsw_ef: int = 64

    def __post_init__(self) -> None:
        if self.index_type not in INDEX_TYPES:
            raise ValueError(
                f"Unknown Milvus index type {self.index_type!r}: use {', '.join(INDEX_TYPES)}."
            )
        for name in ("hnsw_m", "hnsw_ef_construction", "hnsw_ef"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}.")

    @classmethod
    def from_env(cls, uri: str = "", token: str = "", **index: Any) -> StoreConfig:
        """Empty, 0 or None arguments fall back to $MILVUS_URI, $MILVUS_TOKEN,
        $MILVUS_INDEX_TYPE, $MILVUS_HNSW_M, $MILVUS_HNSW_EF_CONSTRUCTION and $MILVUS_HNSW_EF."""
        defaults = cls()
        settings: dict[str, Any] = {}
        for name in ("index_type", "hnsw_m", "hnsw_ef_construction", "hnsw_ef"):
            value = index.get(name)
            if value in (None, "", 0):  # 0: a valve left unset
                value = os.getenv(f"MILVUS_{name.upper()}", "").strip() or getattr(defaults, name)
            try:
                settings[name] = value.upper() if name == "index_type" else int(value)
            except ValueError:
                raise ValueError(
                    f"MILVUS_{name.upper()} must be a whole number, not {value!r}."
                ) from None
        return cls(
            uri=uri or os.getenv("MILVUS_URI", ""),
            token=token or os.getenv("MILVUS_TOKEN", ""),
            **settings,
        )

    def index_params(self) -> dict[str, Any]:
        """Build parameters of a new collection's vector index."""
        if self.index_type == "HNSW":
            return {"M": self.hnsw_m, "efConstruction": self.hnsw_ef_construction}
        if self.index_type == "IVF_FLAT":
            return {"nlist": IVF_NLIST}
        return {}

    def search_params(self, k: int) -> dict[str, Any]:
        """Search parameters for the k nearest: both HNSW's ef (at least k) and IVF's nprobe,
        since a collection keeps the index it was created with whatever this config says;
        each index reads its own and FLAT none."""
        return {"ef": max(self.hnsw_ef, k), "nprobe": IVF_NPROBE}

    def resolved_uri(self, data_dir: Path) -> str:
        return self.uri or str(data_dir / "rag" / LITE_FILE)

    def is_lite(self, data_dir: Path) -> bool:
        return not self.resolved_uri(data_dir).startswith(("http://", "https://", "tcp://"))


_IMPORT_LOCK = threading.Lock()


def import_llama_index() -> None:
    """Import LlamaIndex's splitter and Milvus store once, under a lock.

    They load lazily (seconds of imports a plain `pipekit --help` should not pay), and two
    threads importing llama_index.core at once fail inside its circular imports.
    """
    with _IMPORT_LOCK:
        import llama_index.core.node_parser  # noqa: F401
        import llama_index.vector_stores.milvus  # noqa: F401


def milvus_name(collection: str) -> str:
    """Milvus wants [A-Za-z_][A-Za-z0-9_]*; users may name collections 'team-docs.ko'."""
    safe = re.sub(r"[^A-Za-z0-9_]", "_", collection)[:40]
    return f"pk_{safe}_{hashlib.sha1(collection.encode()).hexdigest()[:8]}"


class VectorStore:
    """One collection's vectors: add, delete a document's, search."""

    def __init__(
        self, config: StoreConfig, data_dir: Path, collection: str, dimension: int
    ) -> None:
        self.config = config
        self.uri = config.resolved_uri(data_dir)
        self.lite = config.is_lite(data_dir)
        self.collection = collection
        self.name = milvus_name(collection)
        self.dimension = dimension
        self._store = None
        self._lock = threading.Lock()
        self.last_used = time.monotonic()

    def _open(self, wait_s: float):
        if self._store is not None:
            return self._store
        import_llama_index()
        from llama_index.vector_stores.milvus import MilvusVectorStore

        options: dict[str, Any] = {
            "uri": self.uri,
            "collection_name": self.name,
            "dim": self.dimension,
            "overwrite": False,
            "similarity_metric": "COSINE",
        }
        if self.config.token:
            options["token"] = self.config.token
        # Milvus Lite 3 builds HNSW with faiss too; its brute-force search takes ~0.4 s at 10k.
        options["index_config"] = {
            "index_type": self.config.index_type,
            "metric_type": "COSINE",
            "params": self.config.index_params(),
        }
        options["search_config"] = self.config.search_params(1)
        if self.lite:
            Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                store = MilvusVectorStore(**options)
                # A reopened collection is "released" until loaded (Milvus Lite and server).
                store.client.load_collection(self.name)
                self._store = store
                return store
            except Exception as error:
                busy = self.lite and "Open local milvus failed" in str(error)
                if busy and time.monotonic() < deadline:
                    time.sleep(0.5)
                    continue
                raise StoreError(self._problem(error, busy)) from error

    def _problem(self, error: Exception, busy: bool) -> str:
        if busy:
            return (
                f"The Milvus Lite file {self.uri} is in use by another process (a running "
                "`pipekit serve` lets go of it after "
                f"{LITE_IDLE_S:g} s idle, or a `pipekit ingest`). Try again shortly, or use "
                "a Milvus server (MILVUS_URI) for concurrent access."
            )
        where = "Milvus Lite file " + self.uri if self.lite else "the Milvus server at " + self.uri
        return f"Could not open {where}: {type(error).__name__}: {error}"[:500]

    def open(self, wait_s: float) -> None:
        with self._lock:
            self._open(wait_s)

    def add(self, chunk_rows: list[dict[str, Any]], vectors: np.ndarray, wait_s: float) -> None:
        """Insert chunks (dicts with chunk_id, doc_id, text) with their vectors."""
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        nodes = []
        for row, vector in zip(chunk_rows, vectors, strict=True):
            node = TextNode(
                id_=row["chunk_id"],
                text=row["text"],
                embedding=[float(x) for x in vector],
                metadata={"doc_id": row["doc_id"]},
            )
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=row["doc_id"])
            nodes.append(node)
        with self._lock:
            store = self._open(wait_s)
            try:
                for start in range(0, len(nodes), 256):
                    store.add(nodes[start : start + 256])
            except Exception as error:
                raise StoreError(
                    f"Milvus insert into {self.collection!r} failed: {error}"
                ) from error
            self.last_used = time.monotonic()

    def flush(self, wait_s: float) -> None:
        """Seal what was added: unflushed rows sit in a growing segment searched without the
        index (0.4 s a query at 10k chunks instead of ~10 ms). Once per ingest run."""
        with self._lock:
            store = self._open(wait_s)
            try:
                store.client.flush(self.name)
            except Exception as error:
                raise StoreError(f"Milvus flush of {self.collection!r} failed: {error}") from error

    def delete_document(self, doc_id: str, wait_s: float) -> None:
        with self._lock:
            store = self._open(wait_s)
            # LlamaIndex's delete puts the id between quotes unescaped (the id
            # `a"] or doc_id not in ["` deleted every document), and Milvus Lite has no
            # templated filters: a JSON string is a Milvus string literal, quotes and
            # backslashes escaped.
            where = f"{store.doc_id_field} == {json.dumps(doc_id, ensure_ascii=False)}"
            try:
                store.client.delete(self.name, filter=where)
            except Exception as error:
                raise StoreError(f"Milvus delete in {self.collection!r} failed: {error}") from error
            self.last_used = time.monotonic()

    def search(self, vector: np.ndarray, k: int, wait_s: float = 10.0) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) of the k nearest chunks."""
        with self._lock:
            store = self._open(wait_s)
            try:
                # Ids and distances only, through the store's own client: building LlamaIndex
                # nodes for every hit costs more than the search (texts live in the catalog).
                hits = store.client.search(
                    self.name,
                    data=[[float(x) for x in vector]],
                    limit=k,
                    output_fields=[],
                    search_params={"metric_type": "COSINE", "params": self.config.search_params(k)},
                )
            except Exception as error:
                raise StoreError(f"Milvus search in {self.collection!r} failed: {error}") from error
            self.last_used = time.monotonic()
        return [(str(hit["id"]), float(hit["distance"])) for hit in (hits[0] if hits else [])]

    def drop(self, wait_s: float) -> None:
        with self._lock:
            store = self._open(wait_s)
            if store.client.has_collection(self.name):
                store.client.drop_collection(self.name)
            self._close_locked()

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._store is None:
            return
        try:
            self._store.client.close()
        except Exception:  # closing a broken connection must not raise
            log.debug("closing Milvus client failed", exc_info=True)
        self._store = None
        if self.lite:
            release_lite(self.uri)


def release_lite(uri: str) -> None:
    """Stop this process's Milvus Lite server for a file so another process may open it."""
    try:
        from milvus_lite.server_manager import server_manager_instance
    except ImportError:
        return
    server_manager_instance.release_server(uri)
