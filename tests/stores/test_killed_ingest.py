"""An ingest killed half-way (a replica or a job lost with its node) leaves the collection
consistent, lets go of its lock, and the next run completes it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from pipekit.rag.catalog import PENDING
from pipekit.rag.index import RagIndex
from pipekit.rag.store import StoreConfig

DOCUMENTS = 400
INGEST = """
import sys, time
from pathlib import Path
from pipekit.bench.scale import HashEmbedder
from pipekit.rag.index import RagIndex
from pipekit.rag.sources import SourceDocument
from pipekit.rag.store import StoreConfig

data_dir, uri, count, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])

def documents():
    for n in range(count):
        time.sleep(delay)
        yield SourceDocument(f"doc-{n:04d}.md", f"Doc {n}", f"# Doc {n}\\n\\nnote {n}", "corpus")

index = RagIndex(Path(data_dir), StoreConfig(uri=uri))
summary = index.ingest("docs", documents(), HashEmbedder(dimension=64), wait_s=30)
print(summary.added, summary.updated, summary.unchanged)
"""


def ingest(data_dir, uri: str, delay_s: float) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", INGEST, str(data_dir), uri, str(DOCUMENTS), str(delay_s)],
        env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_an_ingest_killed_half_way_is_completed_by_the_next_run(
    tmp_path, milvus_server, database_url, monkeypatch
):
    monkeypatch.setenv("PIPEKIT_DATABASE_URL", database_url)
    index = RagIndex(tmp_path / "reader", StoreConfig(uri=milvus_server))
    try:
        first = ingest(tmp_path / "first", milvus_server, delay_s=0.01)
        deadline = time.monotonic() + 120
        while len(written := _written(index)) < 64:
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        first.kill()  # SIGKILL: no cleanup runs
        first.wait()
        hashes = index.catalog.document_hashes("docs")
        assert 64 <= len(written) < DOCUMENTS
        # What the catalog calls done is in Milvus; the rest is pending or not there yet.
        documents, chunks = index.counts("docs")
        assert len(_written(index)) <= chunks <= documents == len(hashes)

        second = ingest(tmp_path / "second", milvus_server, delay_s=0)  # another replica
        out, err = second.communicate(timeout=300)
        assert second.returncode == 0, err
        added, updated, unchanged = map(int, out.split())
        assert unchanged == len(written) and added + updated == DOCUMENTS - len(written)
        assert index.catalog.pending_documents("docs") == []
        assert index.counts("docs") == (DOCUMENTS, DOCUMENTS)
    finally:
        index.close()


def _written(index: RagIndex) -> list[str]:
    """Documents the catalog records as fully written."""
    if index.catalog.collection("docs") is None:
        return []
    hashes = index.catalog.document_hashes("docs")
    return [doc for doc, (digest, _) in hashes.items() if digest != PENDING]
