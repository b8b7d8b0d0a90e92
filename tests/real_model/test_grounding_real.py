"""A 135M model calls no tools: the agents ground its answers anyway (issue 21, item 5)."""

from __future__ import annotations

from pipekit.testing.search import DEFAULT_RESULTS
from tests.support.owui import answer_text, events

from .conftest import RealWorld


def test_web_agent_searches_a_current_facts_question_itself(world: RealWorld):
    question = "What is the latest Python version?"
    response = world.chat("web_search_agent", question)

    assert world.searxng.queries() == [question]  # the user's question, as the model made none
    answer = answer_text(response)
    assert "The model answered without searching the web" in answer
    # Answered from what it read: the results are sources in the chat and listed under it.
    urls = [event["data"]["source"].get("url") for event in events(response, "source")]
    assert urls == [result["url"] for result in DEFAULT_RESULTS]
    assert DEFAULT_RESULTS[0]["url"] in answer.split("**Sources**", 1)[1]


def test_react_agent_arithmetic_goes_through_the_calculator(world: RealWorld):
    answer = answer_text(world.chat("react_agent", "What is 17 times 23?"))
    assert "The model answered without the calculator" in answer
    assert "> 17 * 23 = 391" in answer
    assert "`calculator`" in answer  # the step is in the trace
