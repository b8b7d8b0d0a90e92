"""Deleting a document by id removes its chunks and nothing else, whatever the id holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipekit.rag.store import ChunkStore, StoreConfig


@pytest.mark.parametrize(
    "doc_id",
    [
        'a" or doc_id != "',  # the auditor's probe
        'a"] or doc_id not in ["',  # closes LlamaIndex's `doc_id in ["…"]` list
        'C:\\docs\\" or "x',
        "런북\n2024.md",
    ],
)
def test_deleting_an_id_with_quotes_deletes_only_that_document(tmp_path: Path, doc_id):
    store = ChunkStore(StoreConfig(index_type="FLAT"), tmp_path, "docs", dimension=4)
    rows = [
        {"id": chunk_id, "doc_id": doc, "title": "", "context": "", "text": text,
         "text_hash": chunk_id, "metadata": {}, "keywords": "word", "vector": np.ones(4)}
        for chunk_id, doc, text in [("kept", "keep.md", "stays"), ("deleted", doc_id, "goes")]
    ]  # fmt: skip
    try:
        store.add(rows, wait_s=10)
        store.delete_document(doc_id, wait_s=10)
        assert [hit.chunk.chunk_id for hit in store.nearest(np.ones(4), k=10)] == ["kept"]
        assert [hit.chunk.chunk_id for hit in store.best_keywords("word", k=10)] == ["kept"]
    finally:
        store.close()
