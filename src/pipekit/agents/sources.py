"""The tools an agent pipe's valves configure: its MCP servers' and document search.

Every agent pipe (web search, ReAct, incident) gets them here, the same way: MCP tools from
one client per `mcp_servers` text, and `rag_search` over the `collections` valve, searched as
the chatting user and numbered in the turn's shared sequence of sources.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pipekit.pipe import ChatRequest
from pipekit.tools import Tool, ToolResult

from .web import Citations

if TYPE_CHECKING:
    from pipekit.mcp.client import MCPClient

log = logging.getLogger(__name__)

_rag_missing_logged = False


class ToolSources:
    """One MCP client per servers text: connected by the first chat that needs it, reused by
    every later one, closed when the text changes. Thread-safe; close() it at shutdown."""

    def __init__(self) -> None:
        self._clients: dict[str, MCPClient] = {}
        self._lock = threading.Lock()

    def tools(
        self,
        request: ChatRequest,
        mcp_servers: str,
        collections: list[str],
        citations: Citations,
    ) -> tuple[list[Tool], list[str]]:
        """This turn's configured tools, and a line for each source that is unavailable."""
        tools: list[Tool] = []
        problems: list[str] = []
        if collections:
            search, problem = document_search(collections, request, citations)
            if search is not None:
                tools.append(search)
            if problem:
                problems.append(problem)
        if mcp_servers.strip():
            client = self.mcp(mcp_servers)
            tools += client.tools()
            problems += client.problems
        return tools, problems

    def connecting(self, mcp_servers: str) -> bool:
        """Whether the next chat starts the MCP connections (which can take seconds)."""
        config = mcp_servers.strip()
        return bool(config) and config not in self._clients

    def mcp(self, mcp_servers: str) -> MCPClient:
        """The started client of this servers text; a client of an earlier text is closed."""
        from pipekit.mcp.client import MCPClient  # the MCP SDK loads only when configured

        config = mcp_servers.strip()
        with self._lock:
            client = self._clients.get(config)
            if client is not None:
                return client
            stale = list(self._clients.values())
            self._clients = {}
            for old in stale:
                old.close()
            client = MCPClient.from_config(config).start()
            self._clients[config] = client
            return client

    def close(self) -> None:
        """Close every client. It joins their threads: never call it on an event loop."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()


def document_search(
    collections: list[str], request: ChatRequest, citations: Citations
) -> tuple[Tool | None, str]:
    """`rag_search` over the collections as this chat's user (private collections stay
    private), or none and why."""
    global _rag_missing_logged
    try:
        from pipekit.rag.retriever import Retriever

        from .rag_search import rag_search_tool
    except ImportError as error:
        if not _rag_missing_logged:
            log.warning("collections are set but pipekit.rag is missing: %s", error)
            _rag_missing_logged = True
        return None, "Document search (rag_search) is not available in this install: skipped"
    try:
        search = rag_search_tool(
            Retriever(collections, user_id=request.user_id, chat_id=request.chat_id)
        )
    except Exception as error:  # a broken store must not take the whole agent down
        log.warning("rag_search unavailable: %s", error)
        return None, f"Document search (rag_search) is unavailable: {error}"
    return cited_in_turn(search, citations), ""


def cited_in_turn(item: Tool, citations: Citations) -> Tool:
    """A tool that numbers its own results [1], [2]… (rag_search), renumbered into the turn's
    shared numbering, so its [1] and web_search's [1] never mean two different sources."""

    def run(**arguments: Any) -> Any:
        result = item.run(**arguments)
        if not isinstance(result, ToolResult) or not result.events:
            return result
        numbers: dict[int, int] = {}
        events = []
        for local, event in enumerate(result.events, 1):
            data = event.get("event", {}).get("data", {})
            origin = data.get("source", {})
            meta = (data.get("metadata") or [{}])[0]
            key = origin.get("url") or f"{meta.get('collection', '')}/{meta.get('doc_id', local)}"
            numbers[local], new = citations.number(key, origin.get("name", ""))
            if new:
                events.append(event)
        text = re.sub(
            r"^\[(\d+)\]",
            lambda m: f"[{numbers.get(int(m.group(1)), m.group(1))}]",
            result.text,
            flags=re.M,
        )
        return ToolResult(text, events)

    return replace(item, run=run)
