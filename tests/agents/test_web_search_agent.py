"""The web search agent through `pipekit serve`, with the scripted fake Ollama and fake SearXNG."""

from __future__ import annotations

from pipekit.testing.fake_base import Reply
from pipekit.testing.search import DEFAULT_RESULTS
from pipekit.testing.server import free_port
from tests.agents.conftest import answer_text, source_urls, statuses


def search_call(query: str, **arguments) -> Reply:
    return Reply(tool_calls=[{"name": "web_search", "arguments": {"query": query, **arguments}}])


def fetch_call(url: str) -> Reply:
    return Reply(tool_calls=[{"name": "fetch_page", "arguments": {"url": url}}])


def tool_message(request: dict) -> str:
    message = request["messages"][-1]
    assert message["role"] == "tool", message
    return message["content"]


def test_search_reaches_searxng_and_results_reach_the_model(world):
    world.ollama.script(
        search_call("python 3.13 release"),
        Reply(content="Python 3.13 is out [1], see what is new [2]."),
    )
    response = world.chat("web_search_agent")

    assert world.searxng.queries() == ["python 3.13 release"]
    assert world.searxng.requests[0]["query"]["format"] == "json"
    first, second = world.model_requests()
    offered = {item["function"]["name"] for item in first["tools"]}
    assert offered == {"web_search", "fetch_page", "current_time"}
    assert "cite every fact" in first["messages"][0]["content"]
    assert "do not write one" in first["messages"][0]["content"]
    results = tool_message(second)
    assert "[1] Python 3.13 released" in results and DEFAULT_RESULTS[0]["url"] in results
    assert "[3] Python (programming language)" in results
    assert 'trust="untrusted"' in results

    answer = answer_text(response)
    assert answer.startswith("Python 3.13 is out [1], see what is new [2].")
    assert "Searching the web for python 3.13 release" in statuses(response)
    assert source_urls(response) == [result["url"] for result in DEFAULT_RESULTS]
    assert "<details>" in answer and "`web_search`" in answer
    # The pipe, not the model, lists the cited sources with their real URLs, before the trace.
    sources = answer.split("**Sources**", 1)[1].split("<details>", 1)[0]
    assert f"**1.** [Python 3.13 released](<{DEFAULT_RESULTS[0]['url']}>)" in sources
    assert f"**2.** [What's New In Python 3.13](<{DEFAULT_RESULTS[1]['url']}>)" in sources
    assert "**3.**" not in sources  # found, but not cited


def test_max_results_valve_and_argument_reach_the_search(world):
    world.set_valves("web_search_agent", max_results=2)
    world.ollama.script(search_call("python"), Reply(content="ok"))
    world.chat("web_search_agent")
    results = tool_message(world.model_requests()[1])
    assert "[2]" in results and "[3]" not in results


def test_fetch_page_gives_the_model_the_main_text_and_is_cached_per_chat(world):
    world.set_valves("web_search_agent", fetch_private_urls=True)
    page = world.web.url + "/python-313.html"
    world.ollama.script(fetch_call(page), fetch_call(page), Reply(content="Free-threading [1]."))
    response = world.chat("web_search_agent", chat_id="chat-a")

    text = tool_message(world.model_requests()[1])
    assert "free-threaded build" in text and "Python 3.13 release notes" in text
    assert "<nav>" not in text and "Home | About" not in text
    assert "Reading " + page in statuses(response)
    assert source_urls(response) == [page]  # the second read adds no second chip
    assert len(world.web.requests_to("/python-313.html")) == 1  # read once in this chat

    world.ollama.script(fetch_call(page), Reply(content="again"))
    world.chat("web_search_agent", chat_id="chat-b")
    assert len(world.web.requests_to("/python-313.html")) == 2  # another chat reads it again


def test_non_html_page_is_a_clear_error(world):
    world.set_valves("web_search_agent", fetch_private_urls=True)
    world.ollama.script(fetch_call(world.web.url + "/report.pdf"), Reply(content="It is a PDF."))
    response = world.chat("web_search_agent")
    problem = "is not a web page (content type application/pdf)"
    assert problem in tool_message(world.model_requests()[1])
    assert any(problem in line for line in statuses(response))


def test_private_addresses_are_not_read_by_default(world):
    world.ollama.script(fetch_call(world.web.url + "/python-313.html"), Reply(content="No."))
    world.chat("web_search_agent")
    assert "private address" in tool_message(world.model_requests()[1])
    assert world.web.requests == []


def test_search_backend_down_the_agent_says_so(world):
    dead = f"http://127.0.0.1:{free_port()}"
    world.set_valves("web_search_agent", searxng_url=dead)
    world.ollama.script(search_call("python"), Reply(content="The search service is down."))
    response = world.chat("web_search_agent")
    message = f"SearXNG at {dead} is not reachable"
    assert message in tool_message(world.model_requests()[1])
    assert any(message in line for line in statuses(response))
    answer = answer_text(response)
    assert answer.startswith("The search service is down.")
    assert "→ error" in answer and message in answer  # the trace says what failed


def test_bad_arguments_get_one_repair_then_a_clear_message(world):
    no_query = Reply(tool_calls=[{"name": "web_search", "arguments": {"q": "python"}}])
    world.ollama.script(no_query, no_query, Reply(content="unused"))
    answer = answer_text(world.chat("web_search_agent"))
    repair = tool_message(world.model_requests()[1])
    assert "query: Field required" in repair and "Call the tool again" in repair
    assert "invalid arguments twice" in answer
    assert world.searxng.requests == []


def test_step_limit_stops_tool_calls_and_forces_an_answer(world):
    world.set_valves("web_search_agent", max_steps=2)
    world.ollama.script(
        search_call("one"), search_call("two"), Reply(content="What I found so far.")
    )
    response = world.chat("web_search_agent")
    assert world.searxng.queries() == ["one", "two"]
    last = world.model_requests()[-1]
    assert not last.get("tools")
    assert "used all your tool steps" in last["messages"][-1]["content"]
    assert any("Step limit (2)" in line for line in statuses(response))
    assert answer_text(response).startswith("What I found so far.")


def test_tool_timeout_is_reported_and_the_agent_goes_on(world):
    world.set_valves("web_search_agent", tool_timeout_s=1)
    world.searxng.stall(4)
    world.ollama.script(search_call("slow"), Reply(content="Search was too slow."))
    response = world.chat("web_search_agent")
    world.searxng.stall(0)
    assert "did not answer within 1 s" in tool_message(world.model_requests()[1])
    assert "web_search timed out after 1 s" in statuses(response)
    assert answer_text(response).startswith("Search was too slow.")


def test_the_tavily_backend_chosen_by_valve(world):
    from pipekit.testing.search import FakeSearch

    with FakeSearch("tavily", api_key="tvly-test") as tavily:
        world.set_valves(
            "web_search_agent",
            search_backend="tavily",
            tavily_url=tavily.url,
            tavily_api_key="tvly-test",
        )
        world.ollama.script(search_call("tavily query", max_results=2), Reply(content="ok"))
        world.chat("web_search_agent")
        assert tavily.requests[0]["body"] == {"query": "tavily query", "max_results": 2}
        assert tavily.requests[0]["headers"]["authorization"] == "Bearer tvly-test"
        assert world.searxng.requests == []
        assert "[2] What's New In Python 3.13" in tool_message(world.model_requests()[1])


def test_background_title_request_runs_no_agent(world):
    world.ollama.script(Reply(content='{"title": "Python 3.13"}'))
    response = world.chat(
        "web_search_agent", "### Task:\nGenerate a title", stream=False, task="title_generation"
    )
    assert response.json()["choices"][0]["message"]["content"] == '{"title": "Python 3.13"}'
    sent = world.model_requests()[-1]
    assert not sent.get("tools") and all(m["role"] != "system" for m in sent["messages"])
    assert world.searxng.requests == []


def test_time_budget_stops_the_agent_with_a_message(world):
    world.set_valves("web_search_agent", time_budget_s=1, tool_timeout_s=30)
    world.searxng.stall(3)
    world.ollama.script(search_call("slow"), Reply(content="unused"))
    response = world.chat("web_search_agent")
    world.searxng.stall(0)
    answer = answer_text(response)
    assert "time budget of 1 s ran out" in answer and "time_budget_s" in answer
    assert len(world.model_requests()) == 1  # the model was not asked again
    assert "Time budget used up" in statuses(response)


def test_openai_compatible_backend_calls_tools_natively(world, fake_openai):
    world.set_valves("web_search_agent", backend="openai", openai_base_url=fake_openai.url + "/v1")
    fake_openai.script(search_call("vllm tools"), Reply(content="Found it [1]."))
    response = world.chat("web_search_agent")
    assert world.searxng.queries() == ["vllm tools"]
    first, second = fake_openai.bodies("/v1/chat/completions")
    assert {t["function"]["name"] for t in first["tools"]} >= {"web_search", "fetch_page"}
    assert second["messages"][-1]["role"] == "tool"
    assert "[1] Python 3.13 released" in second["messages"][-1]["content"]
    assert answer_text(response).startswith("Found it [1].")
