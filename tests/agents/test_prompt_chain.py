"""The plan → research → answer chain through `pipekit serve`."""

from __future__ import annotations

import pytest

from pipekit.agents.chain import parse_plan, pick_pages
from pipekit.testing.fake_base import Reply
from pipekit.testing.search import DEFAULT_RESULTS
from pipekit.testing.server import free_port
from tests.agents.conftest import answer_text, source_urls, statuses


def fake_web_results(world) -> None:
    web = world.web.url
    article = {
        "title": "Python 3.13 release notes",
        "url": f"{web}/python-313.html",
        "snippet": "Python 3.13 was released on 7 October 2024.",
    }
    pdf = {"title": "Report", "url": f"{web}/report.pdf", "snippet": "A PDF report."}
    notes = {"title": "Build notes", "url": f"{web}/notes.txt", "snippet": "Build status."}
    world.searxng.results_by_query["python 3.13 release date"] = [article, pdf]
    world.searxng.results_by_query["python 3.13 build"] = [notes, article]


def test_plan_research_read_answer(world):
    fake_web_results(world)
    world.set_valves("prompt_chain", fetch_private_urls=True, pages_to_read=3)
    world.ollama.script(
        Reply(content="1. python 3.13 release date\n2. python 3.13 build"),
        Reply(content="Python 3.13 came out in October 2024 [1]; the build is green [3]."),
    )
    response = world.chat("prompt_chain", "When did Python 3.13 come out, and is the build ok?")
    web = world.web.url

    assert world.searxng.queries() == ["python 3.13 release date", "python 3.13 build"]
    plan, answer = world.model_requests()
    assert "one per line" in plan["messages"][0]["content"] and not plan.get("tools")
    system = answer["messages"][0]["content"]
    assert f"[1] Python 3.13 release notes\nURL: {web}/python-313.html" in system
    assert "Search: python 3.13 build" in system and "[3] Build notes" in system
    # The top page of each query, then the next: read in full, fenced as untrusted.
    assert "experimental free-threaded build" in system
    assert "Plain notes: the build is green." in system
    assert '<tool_output tool="fetch_page" trust="untrusted">' in system
    assert answer["messages"][-1]["content"].startswith("When did Python 3.13 come out")
    assert [len(world.web.requests_to(p)) for p in ("/python-313.html", "/notes.txt")] == [1, 1]

    lines = statuses(response)
    assert lines[0] == "Planning the research"
    assert "Researching (1/2): python 3.13 release date" in lines
    assert "Researching (2/2): python 3.13 build" in lines
    assert "Reading 3 pages" in lines
    assert any(line.startswith(f"Could not read {web}/report.pdf: ") for line in lines)
    assert "Writing the answer from 3 sources" in lines
    assert source_urls(response) == [
        f"{web}/python-313.html",
        f"{web}/report.pdf",
        f"{web}/notes.txt",
    ]
    text = answer_text(response)
    assert text.startswith("Python 3.13 came out in October 2024 [1]")
    assert "Research plan (2 searches)" in text
    sources = text.split("**Sources**", 1)[1]
    assert f"**1.** [Python 3.13 release notes](<{web}/python-313.html>)" in sources
    assert f"**3.** [Build notes](<{web}/notes.txt>)" in sources
    assert "**2.**" not in sources  # found but not cited


def test_snippets_only_and_invented_numbers_are_not_listed(world):
    world.set_valves("prompt_chain", pages_to_read=0)
    world.ollama.script(
        Reply(content="python 3.13"), Reply(content="Out in 2024 [1], with a JIT [9].")
    )
    response = world.chat("prompt_chain", "Python 3.13?")
    assert world.web.requests == []
    assert not any(line.startswith("Reading") for line in statuses(response))
    sources = answer_text(response).split("**Sources**", 1)[1]
    assert f"**1.** [Python 3.13 released](<{DEFAULT_RESULTS[0]['url']}>)" in sources
    assert "**9.**" not in sources  # cited by the model, but no such source: never listed


def test_a_question_without_research_is_routed_to_a_plain_answer(world):
    world.set_valves("prompt_chain", system_prompt="Answer in Korean.", pages_to_read=0)
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
    world.set_valves("prompt_chain", searxng_url=dead, pages_to_read=0)
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


def test_pages_are_picked_round_robin_without_repeats():
    assert pick_pages([["a", "b", "c"], ["d", "a"], []], 4) == ["a", "d", "b", "c"]
    assert pick_pages([["a"], ["a"]], 3) == ["a"]
    assert pick_pages([], 2) == []
