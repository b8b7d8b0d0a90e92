"""Every bundled pipe against a real model: SmolLM2-135M served by llama.cpp's
OpenAI-compatible server (the protocol vLLM speaks), through a real `pipekit serve`.

One server for the module: the pipes' valves select the `openai` backend; greedy decoding
(temperature 0) and short answers keep the tier quick and repeatable on two cores. Web search
goes to a fake SearXNG; RAG reads tests/e2e/corpus, ingested as a user does.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pipekit.agents.chain import PromptChainPipe
from pipekit.agents.pipe import ReactAgentPipe, WebSearchAgentPipe
from pipekit.chat import ChatPipe
from pipekit.incident import IncidentPipe
from pipekit.rag.pipe import RagPipe
from pipekit.testing.search import FakeSearch
from pipekit.testing.server import PIPEKIT, PipekitServer
from tests.support.owui import chat_body, send_turn
from tests.support.real_model import LlamaServer

CORPUS = Path(__file__).parents[1] / "e2e" / "corpus"
MAX_TOKENS = 96
PIPES = {
    "chat": ChatPipe,
    "rag": RagPipe,
    "prompt_chain": PromptChainPipe,
    "web_search_agent": WebSearchAgentPipe,
    "react_agent": ReactAgentPipe,
    "incident_agent": IncidentPipe,
}
# What a chat template wraps turns in: none may reach the user.
TEMPLATE_TOKENS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>")


@dataclass
class RealWorld:
    server: PipekitServer
    model: LlamaServer
    searxng: FakeSearch

    def chat(self, pipe: str, message: str, **options) -> httpx.Response:
        with self.server.client(timeout_s=300) as client:
            response = send_turn(client, chat_body(pipe, message, **options))
        assert response.status_code == 200, response.text
        return response

    def set_valves(self, pipe: str, **valves) -> None:
        defaults = PIPES[pipe].Valves().model_dump()
        mine = {"backend": "openai", "temperature": 0.0, "max_tokens": MAX_TOKENS, **valves}
        with self.server.client() as client:
            client.post(f"/{pipe}/valves/update", json={**defaults, **mine}).raise_for_status()


@pytest.fixture(scope="module")
def real_world(
    real_model: LlamaServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealWorld]:
    data_dir = tmp_path_factory.mktemp("real-serve")
    ingest = [*PIPEKIT, "ingest", str(CORPUS), "--collection", "docs", "--data-dir", str(data_dir)]
    subprocess.run(ingest, check=True, capture_output=True, timeout=300)
    with FakeSearch("searxng") as searxng:
        server = PipekitServer(
            data_dir,
            env={
                "OPENAI_BASE_URL": real_model.url,
                "PIPEKIT_MODEL": real_model.model,
                "SEARXNG_URL": searxng.url,
                "PIPEKIT_LOG_LEVEL": os.getenv("PIPEKIT_LOG_LEVEL", "INFO"),
            },
        ).start()
        world = RealWorld(server, real_model, searxng)
        for pipe in PIPES:
            world.set_valves(pipe, **({"collections": ["docs"]} if pipe == "rag" else {}))
        try:
            yield world
        finally:
            server.stop()


@pytest.fixture
def world(real_world: RealWorld) -> RealWorld:
    real_world.searxng.requests.clear()
    return real_world
