"""Collections made while chunk texts lived in the catalog move into Milvus, never re-embedded."""

from __future__ import annotations

import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from pipekit.embeddings import get_local_embedder
from pipekit.rag.catalog import Catalog
from pipekit.rag.chunking import chunk_document
from pipekit.rag.index import RagIndex
from pipekit.rag.ingestion import text_hash
from pipekit.rag.sources import read_sources
from pipekit.rag.store import LEGACY_PREFIX, milvus_name, release_lite
from pipekit.testing.server import PIPEKIT
from tests.rag.test_ingest import DOCS, ingest, search, write_corpus

_LEGACY_TABLES = """
CREATE TABLE chunks (
    collection TEXT NOT NULL, chunk_id TEXT NOT NULL, doc_id TEXT NOT NULL,
    position INTEGER NOT NULL, text TEXT NOT NULL, context TEXT NOT NULL, text_hash TEXT NOT NULL,
    PRIMARY KEY (collection, chunk_id));
CREATE TABLE vectors (
    model TEXT NOT NULL, text_hash TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (model, text_hash));
"""


def write_legacy_collection(data: Path, corpus: Path) -> int:
    """What the version before left of `pipekit ingest corpus -c docs`: documents, chunk texts
    and cached vectors in the catalog, the vectors again in a LlamaIndex-made Milvus collection.
    One vector is missing from the cache (it is still in Milvus). The number of chunks."""
    from pymilvus import MilvusClient

    embedder = get_local_embedder()
    catalog = Catalog(data / "rag" / "catalog.sqlite")
    catalog.ensure_collection("docs", embedder.model_name, embedder.dimension)
    documents = list(read_sources([str(corpus)], delay_s=0))
    chunks = [(d, c) for d in documents for c in chunk_document(d)]
    vectors = embedder.embed_array([c.embedded_text for _, c in chunks])
    hashes = [text_hash(embedder.model_name, c.embedded_text) for _, c in chunks]
    for document in documents:
        catalog.replace_document(
            "docs",
            doc_id=document.doc_id,
            content_hash=document.content_hash,
            title=document.title,
            origin=document.origin,
            metadata=document.metadata,
        )
    catalog.close()
    with closing(sqlite3.connect(data / "rag" / "catalog.sqlite")) as db, db:
        db.executescript(_LEGACY_TABLES)
        db.executemany(
            "INSERT INTO chunks VALUES ('docs', ?, ?, ?, ?, ?, ?)",
            [(c.chunk_id, c.doc_id, c.position, c.text, c.context, h) for (_, c), h in
             zip(chunks, hashes, strict=True)],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO vectors VALUES (?, ?, ?)",
            [
                (embedder.model_name, h, v.tobytes())
                for h, v in zip(hashes[1:], vectors[1:], strict=True)
            ],
        )
    uri = str(data / "rag" / "milvus.db")
    client = MilvusClient(uri=uri)
    legacy = milvus_name("docs", LEGACY_PREFIX)
    client.create_collection(
        legacy, dimension=embedder.dimension, primary_field_name="id", id_type="string",
        vector_field_name="embedding", max_length=64, metric_type="COSINE",
    )  # fmt: skip
    client.insert(
        legacy,
        [{"id": c.chunk_id, "embedding": v, "doc_id": c.doc_id, "text": c.text}
         for (_, c), v in zip(chunks, vectors, strict=True)],
    )  # fmt: skip
    client.close()
    release_lite(uri)
    return len(chunks)


def legacy_chunk_rows(data: Path) -> int:
    with closing(sqlite3.connect(data / "rag" / "catalog.sqlite")) as db:
        return db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]


def test_a_collection_of_the_version_before_moves_into_milvus_on_first_search(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", DOCS)
    data = tmp_path / "data"
    chunks = write_legacy_collection(data, corpus)
    index = RagIndex(data)
    try:
        assert search(index, "run three replicas", top_k=1)[0].doc_id == "scale.md"
        assert search(index, "파드가 OOMKilled 되었어요", top_k=1)[0].doc_id == "ko/oom.md"
        assert index.counts("docs") == (3, chunks)
        assert legacy_chunk_rows(data) == 0
        store = index.chunk_store(index.catalog.collection("docs"))
        assert not store.open(10).has_collection(milvus_name("docs", LEGACY_PREFIX))
        rerun = ingest(index, corpus)  # nothing is embedded again
        assert (rerun.unchanged, rerun.chunks_embedded) == (3, 0)
        # The moved vectors are the same ones: an edit reuses those of its unchanged passage.
        restart = corpus / "restart.md"
        restart.write_text(restart.read_text("utf-8").replace("CrashLoop", "ImagePull"), "utf-8")
        edited = ingest(index, corpus)
        assert (edited.chunks_embedded, edited.chunks_reused) == (1, 1)
    finally:
        index.close()


def test_ingest_migrate_moves_every_collection_and_drops_the_old_tables(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", DOCS)
    data = tmp_path / "data"
    chunks = write_legacy_collection(data, corpus)
    run = subprocess.run(
        [*PIPEKIT, "ingest", "--migrate", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"docs: 3 documents, {chunks} chunks in Milvus\n"
    with closing(sqlite3.connect(data / "rag" / "catalog.sqlite")) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert "chunks" not in tables and "vectors" not in tables and "documents" in tables
