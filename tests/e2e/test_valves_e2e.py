"""A valve an admin saves through Open WebUI survives a restart of the pipelines server and
still shapes the next chat in the browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipekit.testing.fake_ollama import FakeOllama, Reply
from pipekit.testing.server import PipekitServer

from .harness import Browser, OpenWebUI

pytestmark = pytest.mark.e2e

PIRATE = "Always answer like a pirate, in one short sentence."


@pytest.fixture
def chat_valves_restored(open_webui: OpenWebUI) -> Iterator[None]:
    """Later tests see the chat pipe's system prompt as it was."""
    before = open_webui.pipeline_valves("chat")["system_prompt"]
    yield
    open_webui.save_pipeline_valves("chat", {"system_prompt": before})


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
