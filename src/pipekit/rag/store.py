"""Chunks in Milvus: each chunk's text, vector and keywords, searched where they live.

One Milvus collection per pipekit collection holds, per chunk, what search and citations need:
text, heading path, title, the document's metadata, the vector, and the keywords (the tokens
`lexical.keyword_terms` makes: Snowball stems, Kiwi morphemes for Korean). Milvus' BM25
function turns the keywords into the sparse vector it scores, so nearest-vector and BM25
search both run in Milvus and a process holds nothing per chunk.

pymilvus is used directly: LlamaIndex's MilvusVectorStore can neither write our own tokens to
the analysed field nor search BM25 by itself or over chosen ids, which the hybrid scoring in
search.py needs.

Default: a Milvus Lite directory in the data dir, served inside this process. Milvus Lite lets
one process at a time open it, so the server lets go of it after a short idle time and
`pipekit ingest` waits for it (and the other way round). With `MILVUS_URI` set to a Milvus
server, nothing of the corpus lives in this process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipekit import settings

log = logging.getLogger(__name__)
# Milvus Lite's gRPC adapter logs a traceback for every call pymilvus probes that it does not
# implement (AllocTimestamp); nothing is wrong, and users must not read that as a failure.
logging.getLogger("grpc._server").setLevel(logging.CRITICAL)

LITE_FILE = "milvus.db"
# The server lets go of an idle Milvus Lite file so `pipekit ingest` can open it.
LITE_IDLE_S = 20.0
# Collections whose chunks live in Milvus; "pk_…" ones were made by the version before, which
# kept texts in the catalog (migrate.py moves them).
PREFIX, LEGACY_PREFIX = "pk2", "pk"
# Anserini's BM25 parameters for short passages: on the shipped English sets they beat
# 1.5 / 0.75 (recall@5 and MRR both, fused with vectors).
BM25_K1, BM25_B = 0.9, 0.4
_MAX_TEXT_BYTES = 65535  # Milvus' longest VARCHAR
_WRITE_ROWS = 256  # rows per insert: a few MB per gRPC message at 1280 dimensions


class StoreError(RuntimeError):
    """Milvus is down, busy or refused: the message names it and says what to do."""


# Vector index types a collection can be built with, on Milvus Lite and a Milvus server alike.
INDEX_TYPES = ("HNSW", "IVF_FLAT", "FLAT")
IVF_NLIST = 128  # IVF_FLAT clusters; a search probes IVF_NPROBE of them
IVF_NPROBE = 16


@dataclass(frozen=True)
class StoreConfig:
    """Where chunks live and how a new collection is indexed.

    The index type, M and efConstruction are fixed when a collection is created (re-index with
    `--rebuild` to change them); ef applies to every search.
    """

    uri: str = ""  # empty: Milvus Lite in the data dir
    token: str = ""
    index_type: str = settings.DEFAULT_MILVUS_INDEX_TYPE
    hnsw_m: int = settings.DEFAULT_HNSW_M
    hnsw_ef_construction: int = settings.DEFAULT_HNSW_EF_CONSTRUCTION
    hnsw_ef: int = settings.DEFAULT_HNSW_EF

    def __post_init__(self) -> None:
        if self.index_type not in INDEX_TYPES:
            raise ValueError(
                f"Unknown Milvus index type {self.index_type!r}: use {', '.join(INDEX_TYPES)}."
            )
        for name in ("hnsw_m", "hnsw_ef_construction", "hnsw_ef"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}.")

    @classmethod
    def from_env(
        cls,
        uri: str | None = "",
        token: str | None = "",
        *,
        index_type: str | None = "",
        hnsw_m: int | None = 0,
        hnsw_ef_construction: int | None = 0,
        hnsw_ef: int | None = 0,
    ) -> StoreConfig:
        """Empty, 0 or None arguments (a valve or option left unset) fall back to the
        environment: MILVUS_URI, MILVUS_TOKEN, MILVUS_INDEX_TYPE, MILVUS_HNSW_M,
        MILVUS_HNSW_EF_CONSTRUCTION and MILVUS_HNSW_EF (see `pipekit.settings`)."""
        return cls(
            uri=uri or settings.milvus_uri(),
            token=token or settings.milvus_token(),
            index_type=(index_type or settings.milvus_index_type()).upper(),
            hnsw_m=hnsw_m or settings.milvus_hnsw_m(),
            hnsw_ef_construction=hnsw_ef_construction or settings.milvus_hnsw_ef_construction(),
            hnsw_ef=hnsw_ef or settings.milvus_hnsw_ef(),
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


def milvus_name(collection: str, prefix: str = PREFIX) -> str:
    """Milvus wants [A-Za-z_][A-Za-z0-9_]*; users may name collections 'team-docs.ko'."""
    safe = re.sub(r"[^A-Za-z0-9_]", "_", collection)[:40]
    return f"{prefix}_{safe}_{hashlib.sha1(collection.encode()).hexdigest()[:8]}"


def literal(value: Any) -> str:
    """A Milvus filter literal. Milvus Lite has no templated filters: a JSON string is a Milvus
    string literal, quotes and backslashes escaped (LlamaIndex's unescaped quotes once let the
    id `a"] or doc_id not in ["` delete every document)."""
    return json.dumps(value, ensure_ascii=False)


@dataclass
class StoredChunk:
    chunk_id: str
    doc_id: str
    title: str
    context: str
    text: str
    metadata: dict[str, Any]


@dataclass
class Hit:
    chunk: StoredChunk
    score: float  # cosine (nearest) or BM25 (keywords)
    vector: np.ndarray | None = None


_SHOWN = ["doc_id", "title", "context", "text", "metadata"]


class ChunkStore:
    """One collection's chunks in Milvus: add, delete a document's, search by vector and BM25."""

    def __init__(
        self, config: StoreConfig, data_dir: Path, collection: str, dimension: int
    ) -> None:
        self.config = config
        self.data_dir = data_dir
        self.uri = config.resolved_uri(data_dir)
        self.lite = config.is_lite(data_dir)
        self.collection = collection
        self.name = milvus_name(collection)
        self.dimension = dimension
        self._client = None
        self._lock = threading.Lock()  # Milvus Lite's calls, one at a time
        self._opening = threading.Lock()
        self.last_used = time.monotonic()

    # --- opening ---------------------------------------------------------------------------

    def _open(self, wait_s: float):
        if self._client is not None:
            return self._client
        from pymilvus import MilvusClient

        if self.lite:
            Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                client = MilvusClient(uri=self.uri, token=self.config.token)
                break
            except Exception as error:
                busy = self.lite and "Open local milvus failed" in str(error)
                if busy and time.monotonic() < deadline:
                    time.sleep(0.5)
                    continue
                raise StoreError(self._problem(error, busy)) from error
        try:
            legacy = milvus_name(self.collection, LEGACY_PREFIX)
            if client.has_collection(legacy):
                from .migrate import MigrationError, migrate_collection

                try:
                    migrate_collection(self, client, legacy)
                except MigrationError as error:
                    raise StoreError(str(error)) from error
            elif not client.has_collection(self.name):
                self._create(client)
            # A reopened collection is "released" until loaded (Milvus Lite and server).
            client.load_collection(self.name)
        except StoreError:
            raise
        except Exception as error:
            raise StoreError(self._problem(error, False)) from error
        self._client = client
        return client

    def _create(self, client) -> None:
        from pymilvus import DataType, Function, FunctionType

        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
        for name in ("doc_id", "title", "context", "text"):
            schema.add_field(name, DataType.VARCHAR, max_length=_MAX_TEXT_BYTES)
        schema.add_field("text_hash", DataType.VARCHAR, max_length=64)
        schema.add_field("metadata", DataType.JSON)
        # Already tokens (lexical.keyword_terms), written so that any analyser splits them
        # only at spaces: Milvus Lite offers `standard` and `jieba` (no whitespace tokenizer).
        schema.add_field(
            "keywords",
            DataType.VARCHAR,
            max_length=_MAX_TEXT_BYTES,
            enable_analyzer=True,
            analyzer_params={"tokenizer": "standard"},
        )
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dimension)
        schema.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=["keywords"],
                output_field_names=["sparse"],
            )
        )
        # Build parameters under "params": Milvus Lite reads them only there (a server reads
        # both forms).
        indexes = client.prepare_index_params()
        indexes.add_index(
            "vector",
            index_type=self.config.index_type,
            metric_type="COSINE",
            params={"params": self.config.index_params()},
        )
        indexes.add_index(
            "sparse",
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params={"params": {"bm25_k1": BM25_K1, "bm25_b": BM25_B}},
        )
        client.create_collection(self.name, schema=schema)
        # Indexes of an empty collection are ready at once; waiting for them (pymilvus polls
        # every 0.5 s) cost every new collection, a chat's uploads too, a second.
        client.create_index(self.name, indexes, sync=False)

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

    @contextmanager
    def _session(self, wait_s: float, doing: str) -> Iterator[Any]:
        """The open client, with errors worded. Milvus Lite's calls take turns, so the idle
        release never closes the file under one; a server's run side by side."""
        with self._lock if self.lite else nullcontext():
            client = self.open(wait_s)
            try:
                yield client
            except StoreError:
                raise
            except Exception as error:
                raise StoreError(
                    f"Milvus {doing} in {self.collection!r} failed: {error}"[:500]
                ) from error
            finally:
                self.last_used = time.monotonic()

    def open(self, wait_s: float):
        with self._opening:
            return self._open(wait_s)

    # --- writing ---------------------------------------------------------------------------

    def add(self, rows: list[dict[str, Any]], wait_s: float) -> None:
        """Insert chunk rows: id, doc_id, title, context, text, text_hash, metadata, keywords
        and vector."""
        for row in rows:
            for name in ("doc_id", "title", "context", "text", "keywords"):
                row[name] = _fit(row[name])
        with self._session(wait_s, "insert") as client:
            for start in range(0, len(rows), _WRITE_ROWS):
                client.insert(self.name, rows[start : start + _WRITE_ROWS])

    def flush(self, wait_s: float) -> None:
        """Seal what was added: unflushed rows sit in a growing segment searched without the
        index (0.4 s a query at 10k chunks instead of ~10 ms). Once per ingest run."""
        with self._session(wait_s, "flush") as client:
            client.flush(self.name)

    def delete_document(self, doc_id: str, wait_s: float) -> None:
        with self._session(wait_s, "delete") as client:
            client.delete(self.name, filter=f"doc_id == {literal(doc_id)}")

    def document_vectors(self, doc_id: str, wait_s: float) -> dict[str, np.ndarray]:
        """text hash -> vector of a document's chunks: an edited document reuses the vectors
        of the passages it kept."""
        with self._session(wait_s, "query") as client:
            rows = client.query(
                self.name,
                filter=f"doc_id == {literal(doc_id)}",
                output_fields=["text_hash", "vector"],
            )
        return {row["text_hash"]: np.asarray(row["vector"], np.float32) for row in rows}

    def count(self, wait_s: float = 10.0) -> int:
        with self._session(wait_s, "count") as client:
            rows = client.query(self.name, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    # --- searching -------------------------------------------------------------------------

    def nearest(
        self, vector: np.ndarray, k: int, where: str = "", wait_s: float = 10.0
    ) -> list[Hit]:
        """The k chunks nearest the vector, with their cosine similarity."""
        with self._session(wait_s, "search") as client:
            found = client.search(
                self.name,
                data=[vector.astype(np.float32).tolist()],
                anns_field="vector",
                limit=k,
                filter=where,
                output_fields=_SHOWN,
                search_params={"metric_type": "COSINE", "params": self.config.search_params(k)},
            )
        return [Hit(_chunk(hit), float(hit["distance"])) for hit in (found[0] if found else [])]

    def best_keywords(
        self, terms: str, k: int, where: str = "", *, vectors: bool = False, wait_s: float = 10.0
    ) -> list[Hit]:
        """The k chunks BM25 scores highest for the terms (`lexical.keyword_terms`), with their
        vectors when asked (hybrid search scores them by cosine too)."""
        fields = [*_SHOWN, "vector"] if vectors else _SHOWN
        found = self._bm25(terms, k, where, fields, wait_s)
        return [
            Hit(
                _chunk(hit),
                abs(float(hit["distance"])),
                np.asarray(hit["entity"]["vector"], np.float32) if vectors else None,
            )
            for hit in found
        ]

    def keyword_scores(self, terms: str, chunk_ids: list[str], wait_s: float = 10.0) -> dict:
        """chunk id -> BM25 score of these chunks (absent: no term matches)."""
        if not chunk_ids:
            return {}
        found = self._bm25(terms, len(chunk_ids), f"id in {literal(chunk_ids)}", [], wait_s)
        return {str(hit["id"]): abs(float(hit["distance"])) for hit in found}

    def _bm25(self, terms: str, k: int, where: str, fields: list[str], wait_s: float) -> list:
        with self._session(wait_s, "keyword search") as client:
            found = client.search(
                self.name,
                data=[terms],
                anns_field="sparse",
                limit=k,
                filter=where,
                output_fields=fields,
                search_params={"metric_type": "BM25"},
            )
        # Milvus Lite reports a BM25 score as a negative distance, a server as the score.
        return found[0] if found else []

    # --- closing ---------------------------------------------------------------------------

    def drop(self, wait_s: float) -> None:
        with self._lock, self._opening:
            client = self._open(wait_s)
            client.drop_collection(self.name)
            self._close_locked()

    def close(self) -> None:
        with self._lock, self._opening:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._client is None:
            return
        try:
            self._client.close()
        except Exception:  # closing a broken connection must not raise
            log.debug("closing Milvus client failed", exc_info=True)
        self._client = None
        if self.lite:
            release_lite(self.uri)


def _chunk(hit: dict[str, Any]) -> StoredChunk:
    entity = hit["entity"]
    return StoredChunk(
        chunk_id=str(hit["id"]),
        doc_id=entity["doc_id"],
        title=entity["title"],
        context=entity["context"],
        text=entity["text"],
        metadata=entity.get("metadata") or {},
    )


def _fit(text: str) -> str:
    """Text cut to Milvus' longest VARCHAR (in UTF-8 bytes), at a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= _MAX_TEXT_BYTES:
        return text
    return data[:_MAX_TEXT_BYTES].decode("utf-8", errors="ignore")


def release_lite(uri: str) -> None:
    """Stop this process's Milvus Lite server for a file so another process may open it."""
    try:
        from milvus_lite.server_manager import server_manager_instance
    except ImportError:
        return
    server_manager_instance.release_server(uri)
