"""
title: Web Search Agent
author: pipekit
description: Searches the web (SearXNG, Tavily or Brave) and answers with cited sources.
version: 0.1.0
license: Apache-2.0
"""

from pipekit.agents.pipe import WebSearchAgentPipe


class Pipeline(WebSearchAgentPipe):
    """Tools: web_search, fetch_page, current_time (+ MCP servers and RAG collections by valve)."""
