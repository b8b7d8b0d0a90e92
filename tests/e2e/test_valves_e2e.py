"""Valves an admin changes in Open WebUI: through its pipelines API (what the admin panel
calls) a valve survives a restart of the pipelines server and still shapes the next chat in
the browser; and the admin panel page itself, driven in the browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipekit.chat import ChatPipe
from pipekit.testing.fake_ollama import FakeOllama, Reply
from pipekit.testing.server import PipekitServer

from .harness import Browser, OpenWebUI

pytestmark = pytest.mark.e2e

PIRATE = "Always answer like a pirate, in one short sentence."


@pytest.fixture
def chat_valves_restored(open_webui: OpenWebUI) -> Iterator[None]:
    """Later tests see the chat pipe's valves as they were."""
    before = open_webui.pipeline_valves("chat")
    yield
    open_webui.save_pipeline_valves("chat", before)


def test_system_prompt_saved_in_admin_api_survives_restart_and_reaches_the_model(
    open_webui: OpenWebUI,
    pipelines_server: PipekitServer,
    browser: Browser,
    fake_model: FakeOllama,
    chat_valves_restored: None,
):
    saved = open_webui.save_pipeline_valves("chat", {"system_prompt": PIRATE})
    assert saved["system_prompt"] == PIRATE

    # Same port and data dir, as a container restart or an upgrade does; start-up on two
    # loaded cores can take a while.
    pipelines_server.stop()
    pipelines_server.start(timeout_s=90)

    # What Admin Panel → Settings → Pipelines shows after the restart ...
    assert open_webui.pipeline_valves("chat")["system_prompt"] == PIRATE
    # ... is what the next chat in the browser runs with.
    fake_model.script(Reply(content="Arr, the deployment be restarted, matey!"))
    result = browser.chat(
        "chat", "How do I restart a deployment?", screenshot="valve-after-restart.png"
    )
    assert result.answer == "Arr, the deployment be restarted, matey!"
    sent = fake_model.bodies("/api/chat")[-1]["messages"]
    assert sent[0] == {"role": "system", "content": PIRATE}
    assert sent[-1] == {"role": "user", "content": "How do I restart a deployment?"}


# Valves whose empty default means "use the environment" ($OLLAMA_BASE_URL ...). Open WebUI
# 0.12.4 marks every valve input `required`, so the admin types a value or switches the
# valve to "Default" (the page then sends null) before Save goes through. Titles as shown.
EMPTY_CHAT_VALVES = [
    name.replace("_", " ").title()
    for name, value in ChatPipe.Valves().model_dump().items()
    if value == "" and name != "system_prompt"
]


def test_admin_panel_saves_typed_valves_and_ones_left_at_default(
    open_webui: OpenWebUI, browser: Browser, chat_valves_restored: None
):
    assert "Model" in EMPTY_CHAT_VALVES and "Ollama Base Url" in EMPTY_CHAT_VALVES
    left_at_default = [title for title in EMPTY_CHAT_VALVES if title != "Model"]

    saved = browser.edit_valves(
        "chat",
        fill={"System Prompt": PIRATE, "Model": "qwen2.5:7b"},
        to_default=left_at_default,
        screenshot="admin-panel-valves.png",
    )

    assert saved.posted is not None, f"the form refused to submit: {saved.invalid}"
    assert all(saved.posted[title.lower().replace(" ", "_")] is None for title in left_at_default)
    assert saved.status == 200, saved.toasts
    assert "Valves updated successfully" in saved.toasts
    valves = open_webui.pipeline_valves("chat")
    assert valves["system_prompt"] == PIRATE and valves["model"] == "qwen2.5:7b"
    # "Default" leaves them empty, so the environment still decides ...
    assert all(valves[title.lower().replace(" ", "_")] == "" for title in left_at_default)
    # ... and the numbers the page sent back unchanged keep their types and values.
    assert valves["temperature"] == 0.7 and valves["max_tokens"] == 1024
