"""A real model's answer in real Open WebUI: SmolLM2-135M on llama.cpp's OpenAI-compatible
server, behind `pipekit serve`'s chat pipe, seen in headless Chromium (the real-model tier)."""

from __future__ import annotations

import pytest

from pipekit.chat import ChatPipe
from pipekit.testing.server import PipekitServer
from tests.support.real_model import LlamaServer

from .harness import Browser

pytestmark = pytest.mark.e2e

MIN_SCREENSHOT_BYTES = 20_000
TEMPLATE_TOKENS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")


def test_a_real_models_answer_streams_into_open_webui(
    browser: Browser, pipelines_server: PipekitServer, real_model: LlamaServer
):
    valves = ChatPipe.Valves(
        backend="openai",
        openai_base_url=real_model.url,
        model=real_model.model,
        temperature=0.0,
        max_tokens=64,
    ).model_dump()
    with pipelines_server.client() as client:
        client.post("/real_model_chat/valves/update", json=valves).raise_for_status()

    question = "What is the capital of France?"
    result = browser.chat(
        "real_model_chat", question, screenshot="real-model-chat.png", timeout_s=180
    )

    # Greedy decoding: the UI shows what the model says when asked directly.
    direct = real_model.chat([{"role": "user", "content": question}], max_tokens=64)
    assert result.answer.strip(), "the real model's answer is empty in the UI"
    assert " ".join(direct.split()[:6]) in " ".join(result.answer.split())
    assert not [token for token in TEMPLATE_TOKENS if token in result.answer]
    assert "⚠️" not in result.answer, result.answer
    assert result.screenshot.stat().st_size > MIN_SCREENSHOT_BYTES
    assert not result.blocked, f"the page tried to reach outside hosts: {result.blocked}"
