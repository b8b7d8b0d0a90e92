"""The plan → research → answer chain through `pipekit serve`."""

from __future__ import annotations

import pytest

from pipekit.agents.chain import parse_plan
from pipekit.testing.fake_base import Reply
from pipekit.testing.server import free_port
from tests.agents.conftest import answer_text, source_urls, statuses
from tests.fakes.search import DEFAULT_RESULTS


def test_plan_research_answer(world):
    world.searxng.results_by_query["python 3.13 free threading"] = [DEFAULT_RESULTS[1]]
    world.ollama.script(
        Reply(content="1. python 3.13 release date\n2. python 3.13 free threading"),
        Reply(content="Python 3.13 came out in October 2024 [1] with free threading [4]."),
    )
    response = world.chat("prompt_chain", "When did Python 3.13 come out and what is new?")

    assert world.searxng.queries() == ["python 3.13 release date", "python 3.13 free threading"]
    plan, answer = world.model_requests()
    assert "one per line" in plan["messages"][0]["content"] and not plan.get("tools")
    system = answer["messages"][0]["content"]
    assert "[1] Python 3.13 released" in system and 'trust="untrusted"' in system
    assert "Search: python 3.13 free threading" in system
    assert answer["messages"][-1]["content"] == "When did Python 3.13 come out and what is new?"

    lines = statuses(response)
    assert lines[0] == "Planning the research"
    assert "Researching (1/2): python 3.13 release date" in lines
    assert "Researching (2/2): python 3.13 free threading" in lines
    assert "Writing the answer from 3 sources" in lines
    assert source_urls(response) == [r["url"] for r in DEFAULT_RESULTS]
    text = answer_text(response)
    assert text.startswith("Python 3.13 came out in October 2024 [1]")
    assert "Research plan (2 searches)" in text
    sources = text.split("**Sources**", 1)[1]
    assert f"[1] [Python 3.13 released](<{DEFAULT_RESULTS[0]['url']}>)" in sources
    assert "[2]" not in sources  # found but not cited
    assert "[4]" not in sources  # cited by the model, but no such source: never listed


def test_a_question_without_research_is_routed_to_a_plain_answer(world):
    world.set_valves("prompt_chain", system_prompt="Answer in Korean.")
    world.ollama.script(Reply(content="NO_SEARCH"), Reply(content="안녕하세요!"))
    response = world.chat("prompt_chain", "Hello there")
    assert world.searxng.requests == []
    assert answer_text(response) == "안녕하세요!"
    assert "No web research needed: answering directly" in statuses(response)
    assert world.model_requests()[1]["messages"][0] == {
        "role": "system",
        "content": "Answer in Korean.",
    }


def test_search_down_the_answer_stage_is_told_and_the_user_sees_it(world):
    dead = f"http://127.0.0.1:{free_port()}"
    world.set_valves("prompt_chain", searxng_url=dead)
    world.ollama.script(Reply(content="python news"), Reply(content="The web search is down."))
    response = world.chat("prompt_chain", "Python news?")
    message = f"SearXNG at {dead} is not reachable"
    assert any(line.startswith("Search failed: " + message) for line in statuses(response))
    system = world.model_requests()[1]["messages"][0]["content"]
    assert "These searches failed" in system and message in system
    assert answer_text(response).startswith("The web search is down.")


@pytest.mark.parametrize(
    ("reply", "queries"),
    [
        ("- a\n- b\n- a", ["a", "b"]),
        ('Here are the queries:\n1) "x y"\n2. z', ["x y", "z"]),
        ("no_search", []),
        ("q1\nq2\nq3\nq4", ["q1", "q2", "q3"]),
    ],
)
def test_parse_plan(reply, queries):
    assert parse_plan(reply, 3) == queries
