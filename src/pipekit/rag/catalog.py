"""What each collection holds, in SQLite next to the vectors.

Per collection: who owns it (nobody = shared by the team), which embedding model and
dimension built it, each document's content hash, and each chunk's text (BM25 and citations
read it from here). Vectors are cached by model and text hash, so no text is ever embedded
twice, not even after a document moves. SQLite in WAL mode lets `pipekit ingest` write while
the server reads.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipekit.embeddings import DEFAULT_LOCAL_MODEL

from .chunking import Chunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY, owner TEXT, chat_id TEXT, embed_model TEXT NOT NULL,
    dimension INTEGER NOT NULL, created REAL NOT NULL, version INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL, doc_id TEXT NOT NULL, content_hash TEXT NOT NULL,
    title TEXT NOT NULL, origin TEXT NOT NULL, metadata TEXT NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (collection, doc_id));
CREATE TABLE IF NOT EXISTS chunks (
    collection TEXT NOT NULL, chunk_id TEXT NOT NULL, doc_id TEXT NOT NULL,
    position INTEGER NOT NULL, text TEXT NOT NULL, context TEXT NOT NULL, text_hash TEXT NOT NULL,
    PRIMARY KEY (collection, chunk_id));
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks (collection, doc_id);
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL, text_hash TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (model, text_hash));
"""

# A document whose chunks are being replaced: a run killed half-way leaves this hash, which
# matches no content, so the next run redoes the document.
PENDING = "pending"
_VALID_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class CollectionError(ValueError):
    """Unknown collection, wrong embedder, bad name: the message says what to do."""


@dataclass
class CollectionInfo:
    name: str
    owner: str | None
    chat_id: str | None
    embed_model: str
    dimension: int
    version: int

    def readable_by(self, user_id: str | None, chat_id: str | None) -> bool:
        """Shared collections are for everyone; private ones for their owner (and chat)."""
        if self.owner is None:
            return True
        if user_id is None or user_id != self.owner:
            return False
        return self.chat_id is None or self.chat_id == chat_id


@dataclass
class StoredChunk:
    chunk_id: str
    doc_id: str
    text: str
    context: str
    title: str
    metadata: dict[str, Any]
    text_hash: str


def check_name(name: str) -> str:
    if not _VALID_NAME.match(name or ""):
        raise CollectionError(
            f"Collection name {name!r} is not valid: use up to 64 letters, digits, '_', '-', "
            "'.', starting with a letter or digit."
        )
    return name


class Catalog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def _write(self, statements: list[tuple[str, Iterable[Any]]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    if isinstance(args, list) and args and isinstance(args[0], tuple):
                        self._db.executemany(sql, args)
                    else:
                        self._db.execute(sql, tuple(args))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # --- collections ----------------------------------------------------------------------

    def collection(self, name: str) -> CollectionInfo | None:
        rows = self._query(
            "SELECT name, owner, chat_id, embed_model, dimension, version FROM collections "
            "WHERE name = ?",
            (name,),
        )
        return CollectionInfo(*rows[0]) if rows else None

    def collections(self) -> list[CollectionInfo]:
        rows = self._query(
            "SELECT name, owner, chat_id, embed_model, dimension, version FROM collections "
            "ORDER BY name"
        )
        return [CollectionInfo(*row) for row in rows]

    def ensure_collection(
        self,
        name: str,
        embed_model: str,
        dimension: int,
        *,
        owner: str | None = None,
        chat_id: str | None = None,
    ) -> CollectionInfo:
        check_name(name)
        existing = self.collection(name)
        if existing is None:
            self._write(
                [
                    (
                        "INSERT OR IGNORE INTO collections VALUES (?, ?, ?, ?, ?, ?, 0)",
                        (name, owner, chat_id, embed_model, dimension, time.time()),
                    )
                ]
            )
            existing = self.collection(name)
            assert existing is not None
        check_embedder(existing, embed_model, dimension)
        if existing.owner != owner or existing.chat_id != chat_id:
            raise CollectionError(
                f"Collection {name!r} already exists with another owner: choose another name."
            )
        return existing

    def drop_collection(self, name: str) -> None:
        self._write(
            [
                ("DELETE FROM chunks WHERE collection = ?", (name,)),
                ("DELETE FROM documents WHERE collection = ?", (name,)),
                ("DELETE FROM collections WHERE name = ?", (name,)),
            ]
        )

    # --- documents and chunks ---------------------------------------------------------------

    def document_hashes(self, collection: str) -> dict[str, tuple[str, str]]:
        """doc_id -> (content hash, origin)."""
        rows = self._query(
            "SELECT doc_id, content_hash, origin FROM documents WHERE collection = ?", (collection,)
        )
        return {doc_id: (digest, origin) for doc_id, digest, origin in rows}

    def mark_pending(self, collection: str, doc_id: str, title: str, origin: str) -> None:
        self._write(
            [
                (
                    "INSERT INTO documents VALUES (?, ?, ?, ?, ?, '{}', ?) ON CONFLICT "
                    "(collection, doc_id) DO UPDATE SET content_hash = excluded.content_hash",
                    (collection, doc_id, PENDING, title, origin, time.time()),
                )
            ]
        )

    def replace_document(
        self,
        collection: str,
        *,
        doc_id: str,
        content_hash: str,
        title: str,
        origin: str,
        metadata: dict[str, Any],
        chunks: list[Chunk],
        text_hashes: list[str],
    ) -> None:
        rows = [
            (collection, c.chunk_id, doc_id, c.position, c.text, c.context, digest)
            for c, digest in zip(chunks, text_hashes, strict=True)
        ]
        self._write(
            [
                ("DELETE FROM chunks WHERE collection = ? AND doc_id = ?", (collection, doc_id)),
                ("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)", rows),
                (
                    "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        collection,
                        doc_id,
                        content_hash,
                        title,
                        origin,
                        json.dumps(metadata, ensure_ascii=False),
                        time.time(),
                    ),
                ),
                ("UPDATE collections SET version = version + 1 WHERE name = ?", (collection,)),
            ]
        )

    def remove_document(self, collection: str, doc_id: str) -> None:
        self._write(
            [
                ("DELETE FROM chunks WHERE collection = ? AND doc_id = ?", (collection, doc_id)),
                ("DELETE FROM documents WHERE collection = ? AND doc_id = ?", (collection, doc_id)),
                ("UPDATE collections SET version = version + 1 WHERE name = ?", (collection,)),
            ]
        )

    def chunks(self, collection: str) -> list[StoredChunk]:
        rows = self._query(
            "SELECT c.chunk_id, c.doc_id, c.text, c.context, d.title, d.metadata, c.text_hash "
            "FROM chunks c JOIN documents d ON d.collection = c.collection AND d.doc_id = c.doc_id "
            "WHERE c.collection = ? AND d.content_hash != ? ORDER BY c.doc_id, c.position",
            (collection, PENDING),
        )
        return [
            StoredChunk(cid, did, text, ctx, title, json.loads(meta), digest)
            for cid, did, text, ctx, title, meta, digest in rows
        ]

    def counts(self, collection: str) -> tuple[int, int]:
        documents = self._query(
            "SELECT COUNT(*) FROM documents WHERE collection = ?", (collection,)
        )
        chunks = self._query("SELECT COUNT(*) FROM chunks WHERE collection = ?", (collection,))
        return documents[0][0], chunks[0][0]

    # --- vector cache -----------------------------------------------------------------------

    def cached_vectors(self, model: str, text_hashes: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(text_hashes), 500):
            batch = text_hashes[start : start + 500]
            marks = ",".join("?" * len(batch))
            for digest, blob in self._query(
                f"SELECT text_hash, vector FROM vectors WHERE model = ? AND text_hash IN ({marks})",
                (model, *batch),
            ):
                found[digest] = np.frombuffer(blob, dtype=np.float32)
        return found

    def cache_vectors(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        if vectors:
            rows = [
                (model, digest, np.asarray(v, np.float32).tobytes())
                for digest, v in vectors.items()
            ]
            self._write([("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)])


def check_embedder(info: CollectionInfo, embed_model: str, dimension: int | None) -> None:
    if info.embed_model != embed_model or (dimension is not None and info.dimension != dimension):
        raise CollectionError(
            f"Collection {info.name!r} was indexed with {info.embed_model} ({info.dimension} "
            f"dimensions), not {embed_model}: set the embedder to {info.embed_model}, or "
            f"re-index it with `pipekit ingest ... --collection {info.name} --embedder "
            f"{'local' if embed_model == DEFAULT_LOCAL_MODEL else embed_model} --rebuild`."
        )
