"""Fixtures for the agent pipes: one `pipekit serve` per module, fakes reset per test.

Starting `pipekit serve` costs seconds on two cores, so each test module shares one server
wired to a fake Ollama, a fake SearXNG and a fake web site; every test starts from default
valves and empty fakes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pipekit.agents.chain import PromptChainPipe
from pipekit.agents.pipe import ReactAgentPipe, WebSearchAgentPipe
from pipekit.testing.fake_ollama import FakeOllama
from pipekit.testing.search import FakeSearch, FakeWeb
from pipekit.testing.server import PipekitServer
from tests.support.owui import answer_text, chat_body, events, send_turn

MODEL = "llama3.2:3b"

# A web search agent with a write tool, as the incident agent will have: post_message posts
# to the fake web site, and this pipe "approves" every write at once, so the only thing
# between an injected page and a real post is the agent loop's firewall.
GUARDED_AGENT = '''
"""
title: Guarded Agent
"""
import os

import httpx

from pipekit.agents.pipe import WebSearchAgentPipe
from pipekit.tools import tool


@tool(writes=True, progress="Posting to {channel}")
def post_message(channel: str, text: str) -> str:
    """Post a message to a chat channel.

    Args:
        channel: Channel name, e.g. #ops.
        text: The message.
    """
    response = httpx.post(
        os.environ["FAKE_WEB_URL"] + "/post", json={"channel": channel, "text": text}
    )
    response.raise_for_status()
    return "posted"


class Pipeline(WebSearchAgentPipe):
    def extra_tools(self, request, citations):
        return [post_message]

    def write_handler(self, request):
        return lambda tool, arguments: tool.invoke(arguments).text
'''

# The react agent as it runs where pipekit.agents.rag_search is not installed.
NO_RAG_AGENT = '''
"""
title: No RAG Agent
"""
import sys

from pipekit.agents.pipe import ReactAgentPipe


class Pipeline(ReactAgentPipe):
    def tools_for(self, request, citations=None):
        saved = sys.modules.get("pipekit.agents.rag_search")
        sys.modules["pipekit.agents.rag_search"] = None  # makes the import raise ImportError
        try:
            return super().tools_for(request, citations)
        finally:
            if saved is None:
                sys.modules.pop("pipekit.agents.rag_search", None)
            else:
                sys.modules["pipekit.agents.rag_search"] = saved
'''

DEFAULT_VALVES = {
    "web_search_agent": WebSearchAgentPipe.Valves().model_dump(),
    "react_agent": ReactAgentPipe.Valves().model_dump(),
    "guarded_agent": WebSearchAgentPipe.Valves().model_dump(),
    "prompt_chain": PromptChainPipe.Valves().model_dump(),
    "no_rag_agent": ReactAgentPipe.Valves().model_dump(),
}


@dataclass
class AgentWorld:
    server: PipekitServer
    ollama: FakeOllama
    searxng: FakeSearch
    web: FakeWeb

    def chat(self, pipe: str, message: str = "What is new in Python 3.13?", **options):
        with self.server.client(timeout_s=60) as client:
            return send_turn(client, chat_body(pipe, message, **options))

    def set_valves(self, pipe: str, **valves) -> None:
        with self.server.client() as client:
            client.post(f"/{pipe}/valves/update", json=valves).raise_for_status()

    def model_requests(self) -> list[dict]:
        return self.ollama.bodies("/api/chat")


@pytest.fixture(scope="module")
def agent_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentWorld]:
    root = tmp_path_factory.mktemp("agents")
    extra = root / "extra"
    extra.mkdir()
    (extra / "guarded_agent.py").write_text(GUARDED_AGENT, encoding="utf-8")
    (extra / "no_rag_agent.py").write_text(NO_RAG_AGENT, encoding="utf-8")
    with FakeOllama() as ollama, FakeSearch("searxng") as searxng, FakeWeb() as web:
        server = PipekitServer(
            root / "data",
            extra_dirs=(extra,),
            env={
                "OLLAMA_BASE_URL": ollama.url,
                "PIPEKIT_MODEL": MODEL,
                "SEARXNG_URL": searxng.url,
                "FAKE_WEB_URL": web.url,
            },
        )
        server.start()
        try:
            yield AgentWorld(server, ollama, searxng, web)
        finally:
            server.stop()


@pytest.fixture
def world(agent_world: AgentWorld) -> Iterator[AgentWorld]:
    """The shared server with default valves and fresh fakes."""
    for pipe, valves in DEFAULT_VALVES.items():
        agent_world.set_valves(pipe, **valves)
    agent_world.ollama.reset()
    for fake in (agent_world.searxng, agent_world.web):
        fake.requests.clear()
        fake.stall(0)
    agent_world.web.posted.clear()
    yield agent_world


def statuses(response) -> list[str]:
    return [event["data"]["description"] for event in events(response, "status")]


def source_urls(response) -> list[str]:
    return [event["data"]["source"].get("url") for event in events(response, "source")]


__all__ = ["MODEL", "AgentWorld", "answer_text", "source_urls", "statuses"]
