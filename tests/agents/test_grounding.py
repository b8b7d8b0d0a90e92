"""Agents ground their answers whatever the model does (scripted fake model).

A small model often makes no tool call: it answers "the latest Python version" from memory,
or does arithmetic in its head. The web search agent then searches for the question itself
and answers only from what it read; the ReAct agent works the arithmetic out with the
calculator. The chat says so, and the guess is never shown.
"""

from __future__ import annotations

from pipekit.testing.fake_base import Reply
from pipekit.testing.search import DEFAULT_RESULTS
from tests.agents.conftest import answer_text, source_urls, statuses

QUESTION = "What is the latest Python version?"
GUESS = "The latest Python version is 3.9."


def test_web_agent_searches_the_question_itself_when_the_model_calls_no_tool(world):
    world.ollama.script(Reply(content=GUESS), Reply(content="Python 3.13 is out [1]."))
    response = world.chat("web_search_agent", QUESTION)

    assert world.searxng.queries() == [QUESTION]
    first, second = world.model_requests()
    assert "tools" in first and not second.get("tools")  # answer from the results, no tools
    grounded = second["messages"][-1]["content"]
    assert "[1] Python 3.13 released" in grounded and f"Question: {QUESTION}" in grounded
    assert "using only the numbered web search results" in grounded

    answer = answer_text(response)
    assert GUESS not in answer
    assert answer.startswith("> ℹ️ The model answered without searching the web")
    assert "Python 3.13 is out [1]." in answer
    assert f"**1.** [Python 3.13 released](<{DEFAULT_RESULTS[0]['url']}>)" in answer
    assert source_urls(response) == [result["url"] for result in DEFAULT_RESULTS]
    assert f"Searching the web for {QUESTION}" in statuses(response)


def test_a_grounded_answer_that_cites_nothing_still_lists_what_was_read(world):
    world.ollama.script(Reply(content=GUESS), Reply(content="Python 3.13 is the newest."))
    answer = answer_text(world.chat("web_search_agent", QUESTION))
    sources = answer.split("**Sources**", 1)[1]
    assert all(result["url"] in sources for result in DEFAULT_RESULTS)


def test_web_agent_says_it_found_nothing_rather_than_guess(world):
    world.searxng.results_by_query[QUESTION] = []
    try:
        world.ollama.script(Reply(content=GUESS))
        answer = answer_text(world.chat("web_search_agent", QUESTION))
    finally:
        world.searxng.results_by_query.clear()
    assert GUESS not in answer
    assert f"I searched the web for “{QUESTION}” and found nothing" in answer
    assert len(world.model_requests()) == 1  # no second model call to invent an answer


def test_web_agent_that_searches_by_itself_gets_no_notice(world):
    world.ollama.script(
        Reply(tool_calls=[{"name": "web_search", "arguments": {"query": "python release"}}]),
        Reply(content="Python 3.13 [1]."),
    )
    answer = answer_text(world.chat("web_search_agent", QUESTION))
    assert world.searxng.queries() == ["python release"]
    assert "ℹ️" not in answer and answer.startswith("Python 3.13 [1].")


def test_react_agent_works_arithmetic_out_with_the_calculator(world):
    world.ollama.script(Reply(content="17 times 23 is 381."), Reply(content="It is 391."))
    response = world.chat("react_agent", "What is 17 times 23?")

    first, second = world.model_requests()
    assert "17 * 23 = 391" in second["messages"][-1]["content"]
    assert "do not redo the arithmetic" in second["messages"][-1]["content"]
    answer = answer_text(response)
    assert "381" not in answer
    assert "> ℹ️ The model answered without the calculator" in answer
    assert "> 17 * 23 = 391\n" in answer and "It is 391." in answer
    assert "Calculating 17 * 23" in statuses(response)
    assert "`calculator`" in answer  # the trace shows the step


def test_react_agent_takes_a_direct_answer_when_there_is_no_arithmetic(world):
    world.ollama.script(Reply(content="Hello! How can I help?"))
    answer = answer_text(world.chat("react_agent", "Hello there"))
    assert answer.startswith("Hello! How can I help?") and "ℹ️" not in answer
    assert len(world.model_requests()) == 1
