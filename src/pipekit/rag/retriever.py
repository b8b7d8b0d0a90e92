"""Retrieval for callers outside the RAG pipe: collections searched as one user, by query.

The agents build their `rag_search` tool on it; RAG itself knows nothing of tools or agents.
"""

from __future__ import annotations

from pathlib import Path

from pipekit.embeddings import make_embedder

from .search import Passage, SearchMode
from .service import shared_index
from .store import StoreConfig


class Retriever:
    """Searches `collections` as this user and chat: private collections stay private."""

    def __init__(
        self,
        collections: list[str],
        *,
        user_id: str | None = None,
        chat_id: str | None = None,
        data_dir: Path | None = None,
        store: StoreConfig | None = None,
        embedder: str | None = None,
        ollama_url: str | None = None,
        top_k: int = 5,
        mode: SearchMode = "hybrid",
    ) -> None:
        self.collections = list(collections)
        self.user_id, self.chat_id = user_id, chat_id
        self.embedder, self.ollama_url = embedder, ollama_url
        self.top_k, self.mode = top_k, mode
        # Opened now, so a store that cannot open is reported before anyone searches.
        self._index = shared_index(data_dir, store or StoreConfig.from_env())

    def search(self, query: str) -> list[Passage]:
        readable = self._index.readable_collections(self.collections, self.user_id, self.chat_id)
        return self._index.search(
            readable,
            query,
            make_embedder(self.embedder, self.ollama_url),
            top_k=self.top_k,
            mode=self.mode,
        )
