"""The RAG pipe in real Open WebUI: status lines, the [1] citation and the source chips show.

The `docs` collection is tests/e2e/corpus, ingested with `pipekit ingest` before the server
started (conftest.py); the fake model answers with a scripted, cited sentence.
"""

from __future__ import annotations

import re

import pytest

from pipekit.testing.fake_ollama import FakeOllama, Reply

from .harness import Browser

pytestmark = pytest.mark.e2e

MIN_SCREENSHOT_BYTES = 20_000


def test_rag_answer_shows_citations_and_the_document_it_came_from(
    browser: Browser, fake_model: FakeOllama
):
    fake_model.script(Reply(content="Run the rollout restart command [1]."))

    result = browser.chat(
        "rag",
        "How do I restart a deployment?",
        screenshot="rag-citations.png",
        wait_for=["Searching docs", "Found "],
    )

    assert result.answer.startswith("Run the rollout restart command")
    assert re.search(r"Found \d+ passages", result.assistant_text)  # the last status stays
    # Open WebUI turned [1] into a button naming the cited document ...
    assert "[1]" not in result.answer
    assert 'aria-label="View source: Restarting a deployment"' in result.assistant_html
    # ... and lists the documents under the answer (the "N Sources" chip, expanded).
    assert result.sources[0] == "Restarting a deployment"
    assert set(result.sources) <= {"Restarting a deployment", "Scaling"}
    # The model answered from the ingested runbook's passages, numbered for citing: the
    # passage [1] it cites is from the document the button names.
    prompt = fake_model.bodies("/api/chat")[-1]["messages"][-1]["content"]
    assert "oc rollout restart deployment/checkout -n shop" in prompt
    first_passage = re.search(r"^\[1\] (.+)$", prompt, re.MULTILINE)
    assert first_passage and "restart-a-deployment.md" in first_passage.group(1), prompt
    assert result.screenshot.stat().st_size > MIN_SCREENSHOT_BYTES
