"""Each search backend against a fake of its service: the wire format, and every way it fails."""

from __future__ import annotations

import pytest

from pipekit.agents.pipe import WebSearchAgentPipe
from pipekit.agents.search import SearchError, SearchResult, SearchSettings, search_backend
from pipekit.agents.web import Citations, FetchError, FetchSettings, read_page, web_search_tool
from pipekit.testing.fake_ollama import Reply
from pipekit.testing.search import DEFAULT_RESULTS, FakeSearch, FakeWeb
from pipekit.testing.server import free_port

KEY = "key-123"


def backend_for(fake: FakeSearch, key: str = KEY, **settings):
    return search_backend(
        SearchSettings(
            backend=fake.kind,
            searxng_url=fake.url,
            tavily_url=fake.url,
            brave_url=fake.url,
            tavily_api_key=key,
            brave_api_key=key,
            **settings,
        )
    )


EXPECTED = [SearchResult(r["title"], r["url"], r["snippet"]) for r in DEFAULT_RESULTS]


def test_searxng_wire_format():
    with FakeSearch("searxng") as fake:
        assert backend_for(fake).search("파이썬 3.13", 2) == EXPECTED[:2]
        (request,) = fake.requests
        assert (request["method"], request["path"]) == ("GET", "/search")
        assert request["query"] == {"q": "파이썬 3.13", "format": "json"}


def test_tavily_wire_format():
    with FakeSearch("tavily", api_key=KEY) as fake:
        assert backend_for(fake).search("python", 2) == EXPECTED[:2]
        (request,) = fake.requests
        assert (request["method"], request["path"]) == ("POST", "/search")
        assert request["body"] == {"query": "python", "max_results": 2}
        assert request["headers"]["authorization"] == f"Bearer {KEY}"


def test_brave_wire_format():
    with FakeSearch("brave", api_key=KEY) as fake:
        assert backend_for(fake).search("python", 3) == EXPECTED
        (request,) = fake.requests
        assert (request["method"], request["path"]) == ("GET", "/res/v1/web/search")
        assert request["query"]["q"] == "python"
        assert request["headers"]["x-subscription-token"] == KEY


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("tavily", "Tavily at {url} refused the request (HTTP 401)"),
        ("brave", "Brave Search at {url} refused the request (HTTP 422)"),
    ],
)
def test_a_wrong_key_says_which_service_and_which_valve(kind, message):
    with FakeSearch(kind, api_key=KEY) as fake:
        with pytest.raises(SearchError) as raised:
            backend_for(fake, key="wrong").search("python")
        assert message.format(url=fake.url) in str(raised.value)
        assert f"{kind}_api_key" in str(raised.value)


@pytest.mark.parametrize("kind", ["tavily", "brave"])
def test_a_missing_key_is_reported_before_any_request(kind, monkeypatch):
    monkeypatch.delenv("TAVILY_API_KEY", raising=False)
    monkeypatch.delenv("BRAVE_API_KEY", raising=False)
    with FakeSearch(kind) as fake:
        with pytest.raises(SearchError, match="needs an API key"):
            backend_for(fake, key="").search("python")
        assert fake.requests == []


def test_empty_valves_fall_back_to_the_environment(monkeypatch):
    with FakeSearch("brave", api_key="from-env") as fake:
        monkeypatch.setenv("BRAVE_BASE_URL", fake.url)
        monkeypatch.setenv("BRAVE_API_KEY", "from-env")
        backend = search_backend(SearchSettings(backend="brave"))
        assert backend.search("python", 1) == EXPECTED[:1]
    with FakeSearch("searxng") as fake:
        monkeypatch.setenv("SEARXNG_URL", fake.url)
        assert search_backend(SearchSettings()).search("python", 1) == EXPECTED[:1]


def test_searxng_down_names_the_url_and_the_valve():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SearchError) as raised:
        search_backend(SearchSettings(searxng_url=url)).search("python")
    assert str(raised.value).startswith(f"SearXNG at {url} is not reachable")
    assert "searxng_url" in str(raised.value)


def test_searxng_without_json_format_says_how_to_enable_it():
    with FakeSearch("searxng") as fake:
        fake.handle = lambda request: (403, {"Content-Type": "text/html"}, b"<h1>403</h1>")
        with pytest.raises(SearchError, match="add `json` to `search.formats`"):
            backend_for(fake).search("python")


def test_a_slow_service_times_out_with_a_message():
    with FakeSearch("searxng") as fake:
        fake.stall(3)
        with pytest.raises(SearchError, match="did not answer within 0.5 s"):
            backend_for(fake, timeout_s=0.5).search("python")
        fake.stall(0)


def test_numbering_is_shared_and_sources_are_sent_once_per_url():
    with FakeSearch("searxng") as fake:
        citations = Citations()
        search = web_search_tool(backend_for(fake), citations, 5)
        first = search.invoke({"query": "a", "max_results": 2})
        fake.results = [DEFAULT_RESULTS[2], DEFAULT_RESULTS[0]]
        second = search.invoke({"query": "b"})
    assert first.text.startswith("[1] Python 3.13 released") and "[2]" in first.text
    assert second.text.startswith("[3] Python (programming language)")
    assert "[1] Python 3.13 released" in second.text  # the same URL keeps its number
    urls = [e["event"]["data"]["source"]["url"] for e in first.events + second.events]
    assert urls == [r["url"] for r in DEFAULT_RESULTS]


def test_no_results_tells_the_model_to_rephrase():
    with FakeSearch("searxng", results=[]) as fake:
        result = web_search_tool(backend_for(fake), Citations(), 5).invoke({"query": "zzz"})
    assert result.text == "No results for 'zzz'. Try other words." and result.events == []


# --- reading pages ------------------------------------------------------------------------

OPEN = FetchSettings(allow_private=True)


def test_redirects_are_followed_and_each_hop_is_checked():
    with FakeWeb() as web:
        title, text = read_page(web.url + "/old-python", OPEN)
        assert title == "Python 3.13 release notes" and "free-threaded" in text
        web.redirects["/to-internal"] = "http://127.0.0.1:1/admin"
        with pytest.raises(FetchError, match="private address"):
            read_page(web.url + "/to-internal", FetchSettings(allow_private=False))


def test_plain_text_is_read_and_other_types_are_refused():
    with FakeWeb() as web:
        assert read_page(web.url + "/notes.txt", OPEN) == ("", "Plain notes: the build is green.")
        with pytest.raises(FetchError, match="not a web page .content type application/pdf"):
            read_page(web.url + "/report.pdf", OPEN)
        with pytest.raises(FetchError, match="answered HTTP 404"):
            read_page(web.url + "/missing", OPEN)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "javascript:1"])
def test_only_http_and_https(url):
    with pytest.raises(FetchError, match="only http and https"):
        read_page(url, OPEN)


def test_a_huge_page_is_cut_at_the_size_limit():
    paragraph = "<p>" + "All work and no play makes a dull page. " * 50 + "</p>\n"
    with FakeWeb() as web:
        web.pages["/huge.html"] = (
            "text/html",
            f"<html><body><article>{paragraph * 2000}</article></body></html>".encode(),
        )
        _, text = read_page(
            web.url + "/huge.html", FetchSettings(allow_private=True, max_bytes=20_000)
        )
    assert 0 < len(text) < 20_000


def test_a_korean_page_in_euc_kr_without_a_declared_charset():
    page = (
        "<html><head><meta charset='euc-kr'><title>공지사항</title></head><body><article>"
        "<p>결제 서비스는 오늘 오전 9시 40분에 복구되었습니다. 불편을 드려 죄송합니다.</p>"
        "<p>추가 문의는 고객센터로 연락해 주십시오. 감사합니다.</p>"
        "</article></body></html>"
    )
    with FakeWeb() as web:
        web.pages["/notice.html"] = ("text/html", page.encode("euc-kr"))
        title, text = read_page(web.url + "/notice.html", OPEN)
    assert title == "공지사항"
    assert "결제 서비스는 오늘 오전 9시 40분에 복구되었습니다" in text


def test_services_named_in_the_environment_later_are_the_ones_an_agent_searches(
    fake_ollama, monkeypatch
):
    # In-process: the valves exist before the environment names the services, as in a running
    # server whose deployment changes SEARXNG_URL or a key.
    agent = WebSearchAgentPipe()
    monkeypatch.setenv("OLLAMA_BASE_URL", fake_ollama.url)
    with FakeSearch("searxng") as searxng:
        monkeypatch.setenv("SEARXNG_URL", searxng.url)
        fake_ollama.script(
            Reply(tool_calls=[{"name": "web_search", "arguments": {"query": "python 3.13"}}]),
            Reply(content="Python 3.13 is out [1]."),
        )
        messages = [{"role": "user", "content": "What is new in Python 3.13?"}]
        reply = agent.pipe(messages[0]["content"], "web_search_agent", messages, {"stream": True})
        answer = "".join(item for item in reply if isinstance(item, str))
        assert searxng.queries() == ["python 3.13"]
        assert answer.startswith("Python 3.13 is out [1].")
    for kind in ("tavily", "brave"):
        with FakeSearch(kind, api_key=f"{kind}-key-from-env") as fake:
            agent.valves.search_backend = kind
            monkeypatch.setenv(f"{kind.upper()}_BASE_URL", fake.url)
            monkeypatch.setenv(f"{kind.upper()}_API_KEY", f"{kind}-key-from-env")
            assert agent.search().search("python", 1) == EXPECTED[:1]
