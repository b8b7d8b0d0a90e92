"""Collections made before chunks lived in Milvus, moved there without re-embedding.

The version before kept each chunk's text and heading path in the catalog's `chunks` table,
its vector in the catalog's `vectors` cache, and its vector again in a Milvus collection
("pk_…", made by LlamaIndex) that search asked for ids only. Moving a collection writes its
chunks, with those same vectors and keywords made from the same text, into the collection
this version searches ("pk2_…"), then drops the old one and the catalog's rows. A move cut
short leaves the old collection in place, so the next open starts it over.

It runs when a store first opens a collection (`store.ChunkStore`), or for all of them at
once with `pipekit ingest --migrate`, which also drops the emptied tables.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .chunking import indexed_text
from .lexical import keyword_terms_many

if TYPE_CHECKING:
    from .store import ChunkStore

log = logging.getLogger(__name__)


class MigrationError(RuntimeError):
    """A collection of the version before cannot be moved; the message says what to run.
    (store.ChunkStore reports it as a StoreError: this module sits below the store.)"""


_BATCH = 500


def legacy_catalog(data_dir: Path) -> Path:
    """Where the version before kept chunk texts and vectors (and still keeps the catalog
    when no database is configured)."""
    return data_dir / "rag" / "catalog.sqlite"


def migrate_collection(store: ChunkStore, client, legacy: str) -> int:
    """Move one collection's chunks from the catalog into a new Milvus collection; the
    number of chunks moved."""
    path = legacy_catalog(store.data_dir)
    if not _has_chunks_table(path):
        raise MigrationError(
            f"Collection {store.collection!r} was indexed by an earlier pipekit, and its chunk "
            f"texts are not in {path}: re-index it with `pipekit ingest SOURCE... --collection "
            f"{store.collection} --rebuild`."
        )
    log.info("moving collection %s into Milvus (%s → %s)", store.collection, legacy, store.name)
    if client.has_collection(store.name):  # a move cut short
        client.drop_collection(store.name)
    store._create(client)
    moved = 0
    with closing(sqlite3.connect(path, timeout=30)) as catalog:
        for rows in _legacy_chunks(catalog, store.collection):
            vectors = _vectors(catalog, client, legacy, rows)
            keywords = keyword_terms_many([indexed_text(r[1], r[3], r[2]) for r in rows])
            client.insert(
                store.name,
                [
                    {
                        "id": chunk_id,
                        "doc_id": doc_id,
                        "title": title,
                        "context": context,
                        "text": text,
                        "text_hash": digest,
                        "metadata": json.loads(metadata),
                        "keywords": terms,
                        "vector": vectors[chunk_id],
                    }
                    for (chunk_id, doc_id, text, context, digest, title, metadata), terms in zip(
                        rows, keywords, strict=True
                    )
                ],
            )
            moved += len(rows)
        client.flush(store.name)
        client.drop_collection(legacy)
        with catalog:
            catalog.execute("DELETE FROM chunks WHERE collection = ?", (store.collection,))
    log.info("moved %d chunks of %s into Milvus", moved, store.collection)
    return moved


def _has_chunks_table(path: Path) -> bool:
    if not path.exists():
        return False
    with closing(sqlite3.connect(path, timeout=30)) as catalog:
        found = catalog.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'chunks'"
        ).fetchone()
    return found is not None


def _legacy_chunks(catalog: sqlite3.Connection, collection: str) -> Iterator[list[tuple]]:
    cursor = catalog.execute(
        "SELECT c.chunk_id, c.doc_id, c.text, c.context, c.text_hash, d.title, d.metadata "
        "FROM chunks c JOIN documents d ON d.collection = c.collection AND d.doc_id = c.doc_id "
        "WHERE c.collection = ? ORDER BY c.doc_id, c.position",
        (collection,),
    )
    while rows := cursor.fetchmany(_BATCH):
        yield rows


def _vectors(catalog: sqlite3.Connection, client, legacy: str, rows: list[tuple]) -> dict:
    """chunk id -> vector: from the catalog's cache, else from the old Milvus collection."""
    by_hash = {row[4]: row[0] for row in rows}
    marks = ",".join("?" * len(by_hash))
    found = {
        by_hash[digest]: np.frombuffer(blob, np.float32)
        for digest, blob in catalog.execute(
            f"SELECT text_hash, vector FROM vectors WHERE text_hash IN ({marks})", list(by_hash)
        )
    }
    missing = [row[0] for row in rows if row[0] not in found]
    if missing:
        client.load_collection(legacy)  # once loaded, loading again costs nothing
        for hit in client.get(legacy, ids=missing, output_fields=["embedding"]):
            found[str(hit["id"])] = np.asarray(hit["embedding"], np.float32)
    lost = len(rows) - len(found)
    if lost:
        raise MigrationError(
            f"{lost} chunks of {legacy} have no vector in the catalog or in Milvus: "
            "re-index the collection with `pipekit ingest ... --rebuild`."
        )
    return found


def drop_legacy_tables(data_dir: Path) -> bool:
    """Once every collection is moved: drop the catalog's chunk and vector tables and give
    their space back. False while some collection still has chunks there."""
    path = legacy_catalog(data_dir)
    if not _has_chunks_table(path):
        return True
    with closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as catalog:
        if catalog.execute("SELECT 1 FROM chunks LIMIT 1").fetchone():
            return False
        catalog.execute("DROP TABLE chunks")
        catalog.execute("DROP TABLE IF EXISTS vectors")
        catalog.execute("VACUUM")
    return True
