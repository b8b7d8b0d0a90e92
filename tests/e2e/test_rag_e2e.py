"""The RAG pipe in real Open WebUI: status lines, the [1] citation and the source chips show.

The `docs` collection is tests/e2e/corpus, ingested with `pipekit ingest` before the server
started (conftest.py); the fake model answers with a scripted, cited sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipekit.testing.fake_ollama import FakeOllama, Reply

from .harness import Browser, OpenWebUI

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


UPLOAD_TEXT = (
    "# Payment gateway\n\nAlice's incident notes: the payment gateway timeout is 45 seconds, "
    "set in checkout's PAYMENT_TIMEOUT_S.\n"
)
QUESTION = "What is the payment gateway timeout?"


@pytest.fixture
def rag_reads_uploads(open_webui: OpenWebUI) -> Iterator[None]:
    """The RAG pipe's Open WebUI valves, as the admin sets them; put back after."""
    before = open_webui.pipeline_valves("rag")
    open_webui.save_pipeline_valves(
        "rag",
        {"openwebui_url": open_webui.url, "openwebui_api_key": open_webui.create_api_key()},
    )
    yield
    open_webui.save_pipeline_valves("rag", before)


@pytest.fixture
def no_open_webui_file_context(open_webui: OpenWebUI) -> Iterator[None]:
    """Workspace → Models → Docs RAG → Capabilities: "File Context" off, so Open WebUI leaves
    the user's message as typed and the pipe does the retrieval."""
    open_webui.override_model("rag", "Docs RAG", capabilities={"file_context": False})
    yield
    open_webui.remove_model_override("rag")


def ask_with_upload(browser: Browser, tmp_path: Path, screenshot: str):
    notes = tmp_path / "payment-notes.md"
    notes.write_text(UPLOAD_TEXT, encoding="utf-8")
    return browser.chat(
        "rag",
        QUESTION,
        attach=[notes],
        screenshot=screenshot,
        wait_for=["Reading 1 attached file(s)", "Searching docs and the attached files"],
    )


def assert_answered_from_the_upload(result, fake_model: FakeOllama) -> None:
    assert result.answer.startswith("The payment gateway timeout is 45 seconds")
    # The pipe read the upload's text from Open WebUI and searched it with the question.
    # (Open WebUI 0.12.4 puts an <attached_files> list before the typed question; the pipe
    # passes it on. Harmless for the search, noise for the model.)
    prompt = fake_model.bodies("/api/chat")[-1]["messages"][-1]["content"]
    assert prompt.rstrip().endswith(QUESTION), prompt[-500:]
    assert "### Task:" not in prompt.split("Question:", 1)[1], "Open WebUI's RAG template"
    first_passage = prompt.split("\n[1] ", 1)[1].split("\n[2] ", 1)[0]
    assert "PAYMENT_TIMEOUT_S" in first_passage, prompt
    # The citation button and the source chip name the file the user attached.
    assert 'aria-label="View source: payment-notes.md"' in result.assistant_html
    assert result.sources[0] == "payment-notes.md"


def test_file_attached_in_the_chat_is_read_and_cited(
    browser: Browser,
    fake_model: FakeOllama,
    rag_reads_uploads: None,
    no_open_webui_file_context: None,
    tmp_path: Path,
):
    fake_model.script(Reply(content="The payment gateway timeout is 45 seconds [1]."))
    result = ask_with_upload(browser, tmp_path, "rag-uploaded-file.png")
    assert_answered_from_the_upload(result, fake_model)


def test_file_attached_with_open_webui_file_context_on_is_still_answered(
    browser: Browser, fake_model: FakeOllama, rag_reads_uploads: None, tmp_path: Path
):
    fake_model.script(Reply(content="The payment gateway timeout is 45 seconds [1]."))
    result = ask_with_upload(browser, tmp_path, "rag-uploaded-file-owui-context.png")
    assert_answered_from_the_upload(result, fake_model)
