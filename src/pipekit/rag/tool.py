"""RAG as a tool the agents call: `rag_search(query)` over configured collections."""

from __future__ import annotations

from pathlib import Path

from pipekit.agents.tools import Tool, ToolResult, tool
from pipekit.settings import default_embedder

from .answer import passage_events, passages_as_context
from .embedding import make_embedder
from .index import SearchMode
from .service import shared_index
from .store import StoreConfig


def rag_search_tool(
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
    name: str = "rag_search",
) -> Tool:
    """A tool searching these collections as this user (private ones stay private)."""
    index = shared_index(data_dir, store or StoreConfig.from_env())
    described = ", ".join(collections)

    @tool(name=name, progress="Searching the documents for {query}")
    def rag_search(query: str) -> ToolResult:
        """Search the team's documents and runbooks for passages relevant to the query.

        Args:
            query: What to look for, in words likely to appear in the documents.
        """
        readable = index.readable_collections(collections, user_id, chat_id)
        passages = index.search(
            readable,
            query,
            make_embedder(embedder or default_embedder(), ollama_url),
            top_k=top_k,
            mode=mode,
        )
        if not passages:
            return ToolResult(f"No passages found in {described} for {query!r}.")
        return ToolResult(passages_as_context(passages), passage_events(passages))

    return rag_search
