"""The ReAct agent and the research chain in real Open WebUI: the steps the user watches
while they work, and the answer they end with. Their web search goes to the session's fake
SearXNG; the fake model plays the scripted tool calls and answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipekit.agents.chain import PromptChainPipe
from pipekit.testing.fake_ollama import FakeOllama, Reply
from pipekit.testing.search import DEFAULT_RESULTS, FakeSearch

from .harness import Browser, OpenWebUI

pytestmark = pytest.mark.e2e


def test_react_agent_shows_its_tool_step_and_answers_with_the_result(
    browser: Browser, fake_model: FakeOllama
):
    fake_model.script(
        Reply(tool_calls=[{"name": "calculator", "arguments": {"expression": "(17.5 * 3) / 4"}}]),
        Reply(content="(17.5 × 3) / 4 is 13.125."),
    )

    result = browser.chat(
        "react_agent",
        "What is (17.5*3)/4?",
        screenshot="react-agent-calculator.png",
        wait_for=["Calculating (17.5 * 3) / 4"],
    )

    assert result.answer.startswith("(17.5 × 3) / 4 is 13.125.")
    # The calculator ran in the pipe and its result is what the model answered from.
    tool_result = fake_model.bodies("/api/chat")[-1]["messages"][-1]
    assert tool_result["role"] == "tool" and "(17.5 * 3) / 4 = 13.125" in tool_result["content"]


@pytest.fixture
def chain_reads_snippets_only(open_webui: OpenWebUI) -> Iterator[None]:
    """Result pages point at the real internet, which tests never reach: answer from the
    search snippets (pages_to_read=0), set as an admin would; defaults restored after."""
    open_webui.save_pipeline_valves("prompt_chain", {"pages_to_read": 0})
    yield
    open_webui.save_pipeline_valves("prompt_chain", PromptChainPipe.Valves().model_dump())


def test_research_chain_shows_plan_and_research_steps_then_cites(
    browser: Browser,
    fake_model: FakeOllama,
    searxng: FakeSearch,
    chain_reads_snippets_only: None,
):
    fake_model.script(
        Reply(content="python 3.13 release"),  # the plan: one query per line
        Reply(content="Python 3.13 came out in October 2024 [1]."),
    )

    result = browser.chat(
        "prompt_chain",
        "When did Python 3.13 come out?",
        screenshot="prompt-chain-steps.png",
        wait_for=["Planning the research", "Researching (1/1): python 3.13 release"],
    )

    assert searxng.queries() == ["python 3.13 release"]
    assert result.answer.startswith("Python 3.13 came out in October 2024")
    assert f'aria-label="View source: {DEFAULT_RESULTS[0]["title"]}"' in result.assistant_html
    assert f'href="{DEFAULT_RESULTS[0]["url"]}"' in result.assistant_html
