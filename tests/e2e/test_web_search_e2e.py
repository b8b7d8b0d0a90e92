"""The web search agent in real Open WebUI: its steps show while it works, its sources after.

The fake model asks for one `web_search`, which goes to the session's fake SearXNG, then
answers citing two of the three results.
"""

from __future__ import annotations

import pytest

from pipekit.testing.fake_ollama import FakeOllama, Reply
from pipekit.testing.search import DEFAULT_RESULTS, FakeSearch

from .harness import Browser

pytestmark = pytest.mark.e2e

MIN_SCREENSHOT_BYTES = 20_000


def test_web_search_agent_shows_its_steps_and_cited_sources(
    browser: Browser, fake_model: FakeOllama, searxng: FakeSearch
):
    fake_model.script(
        Reply(tool_calls=[{"name": "web_search", "arguments": {"query": "python 3.13 release"}}]),
        Reply(content="Python 3.13 is out [1], see what is new [2]."),
    )

    result = browser.chat(
        "web_search_agent",
        "What is new in Python 3.13?",
        screenshot="web-search-agent-steps.png",
        wait_for=["Searching the web for python 3.13 release"],
    )

    assert searxng.queries() == ["python 3.13 release"]
    assert result.answer.startswith("Python 3.13 is out")
    # Both citations became buttons naming the pages they point to.
    for cited in DEFAULT_RESULTS[:2]:
        assert f'aria-label="View source: {cited["title"]}"' in result.assistant_html
    # The pipe's own Sources list links the real URLs of the cited pages only.
    sources_list = result.answer.split("Sources", 1)[1]
    assert "What's New In Python 3.13" in sources_list
    assert "Wikipedia" not in sources_list
    for cited in DEFAULT_RESULTS[:2]:
        assert f'href="{cited["url"]}"' in result.assistant_html
    # Every result found is a source chip the user can open.
    assert result.sources == [found["title"] for found in DEFAULT_RESULTS]
    assert result.screenshot.stat().st_size > MIN_SCREENSHOT_BYTES
    # Source chips with outside URLs make the page fetch nothing from those hosts.
    assert not result.blocked, f"the page tried to reach outside hosts: {result.blocked}"
