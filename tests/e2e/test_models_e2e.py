"""Every bundled pipe shows up in Open WebUI's model list, as a user picks it."""

from __future__ import annotations

import pytest

from .harness import Browser, OpenWebUI

pytestmark = pytest.mark.e2e

BUNDLED_PIPES = {"chat", "rag", "web_search_agent", "react_agent", "prompt_chain", "incident_agent"}


def test_every_bundled_pipe_is_a_model_in_open_webui(open_webui: OpenWebUI):
    listed = set(open_webui.model_ids())
    assert BUNDLED_PIPES <= listed, f"missing from Open WebUI: {sorted(BUNDLED_PIPES - listed)}"


def test_every_bundled_pipe_can_be_picked_in_the_model_selector(browser: Browser):
    result = browser.chat("chat", [], list_models=True, screenshot="model-selector.png")
    offered = set(result.model_options)
    assert BUNDLED_PIPES <= offered, f"not offered in the UI: {sorted(BUNDLED_PIPES - offered)}"
    # Filters run on messages; they are never offered as models.
    assert not offered & {"prompt_injection", "pii", "rate_limit", "topic_guard"}


def test_open_webui_sees_the_server_as_a_pipelines_server(open_webui: OpenWebUI):
    # The admin panel's Pipelines page lists only connections that answer as a pipelines
    # server; without this, valves cannot be edited there.
    with open_webui.client() as client:
        response = client.get("/api/v1/pipelines/list")
    response.raise_for_status()
    assert [entry["idx"] for entry in response.json()["data"]] == [0]
