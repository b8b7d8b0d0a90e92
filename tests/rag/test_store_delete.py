"""Deleting a document by id removes its chunks and nothing else, whatever the id holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipekit.rag.store import StoreConfig, VectorStore


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
    store = VectorStore(StoreConfig(index_type="FLAT"), tmp_path, "docs", dimension=4)
    rows = [
        {"chunk_id": "kept", "doc_id": "keep.md", "text": "stays"},
        {"chunk_id": "deleted", "doc_id": doc_id, "text": "goes"},
    ]
    try:
        store.add(rows, np.ones((2, 4)), wait_s=10)
        store.delete_document(doc_id, wait_s=10)
        assert [chunk for chunk, _ in store.search(np.ones(4), k=10)] == ["kept"]
    finally:
        store.close()
