"""`rag_search`: the agents' tool over RAG's retriever."""

from __future__ import annotations

from pipekit.rag.answer import passage_events, passages_as_context
from pipekit.rag.retriever import Retriever
from pipekit.tools import Tool, ToolResult, tool


def rag_search_tool(retriever: Retriever, name: str = "rag_search") -> Tool:
    described = ", ".join(retriever.collections)

    @tool(name=name, progress="Searching the documents for {query}")
    def rag_search(query: str) -> ToolResult:
        """Search the team's documents and runbooks for passages relevant to the query.

        Args:
            query: What to look for, in words likely to appear in the documents.
        """
        passages = retriever.search(query)
        if not passages:
            return ToolResult(f"No passages found in {described} for {query!r}.")
        return ToolResult(passages_as_context(passages), passage_events(passages))

    return rag_search
