"""Web search backends: SearXNG (self-hosted), Tavily and Brave, behind one result type.

Each backend speaks its service's real wire format over httpx with a timeout. A backend that
is down, refuses the key or answers garbage raises `SearchError` with a message the agent can
pass on to the user as is ("SearXNG at http://searxng:8080 is not reachable …").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from pipekit import settings

log = logging.getLogger(__name__)

BackendName = Literal["searxng", "tavily", "brave"]


class SearchError(RuntimeError):
    """The search service could not answer; the message says which, where and what to do."""


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    snippet: str


@dataclass(frozen=True)
class SearchSettings:
    """What the valves say, before environment fallbacks."""

    backend: BackendName = "searxng"
    searxng_url: str = ""
    tavily_url: str = ""
    tavily_api_key: str = ""
    brave_url: str = ""
    brave_api_key: str = ""
    timeout_s: float = 15.0


class SearchBackend:
    label = "search"

    def __init__(self, base_url: str, api_key: str = "", timeout_s: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s

    def search(self, query: str, max_results: int = 5) -> list[SearchResult]:
        raise NotImplementedError

    # --- shared HTTP handling: every failure becomes one clear SearchError -------------------

    def _request(self, method: str, path: str, **options: Any) -> Any:
        where = f"{self.label} at {self.base_url}"
        try:
            response = httpx.request(
                method, self.base_url + path, timeout=self.timeout_s, **options
            )
        except httpx.TimeoutException:
            raise SearchError(
                f"{where} did not answer within {self.timeout_s:g} s. Try again, or raise the "
                "`search_timeout_s` valve."
            ) from None
        except httpx.HTTPError as error:
            raise SearchError(
                f"{where} is not reachable ({type(error).__name__}). Is the service up? "
                f"Check the {self._url_hint()}."
            ) from None
        # Brave answers a bad token with 422 SUBSCRIPTION_TOKEN_INVALID, not 401.
        if response.status_code in (401, 403) or "TOKEN_INVALID" in response.text[:500]:
            raise SearchError(
                f"{where} refused the request (HTTP {response.status_code}): {self._auth_hint()}"
            )
        if response.status_code == 429:
            raise SearchError(f"{where} says too many requests (HTTP 429): its quota is used up.")
        if response.status_code >= 400:
            raise SearchError(
                f"{where} answered HTTP {response.status_code}: {response.text[:200]}"
            )
        try:
            return response.json()
        except ValueError:
            raise SearchError(f"{where} did not answer JSON. {self._format_hint()}") from None

    def _url_hint(self) -> str:
        return "search URL valve"

    def _auth_hint(self) -> str:
        return "check the API key valve."

    def _format_hint(self) -> str:
        return ""


class SearxngBackend(SearchBackend):
    label = "SearXNG"

    def search(self, query: str, max_results: int = 5) -> list[SearchResult]:
        data = self._request("GET", "/search", params={"q": query, "format": "json"})
        return _results(_list(data, "results"), "content", max_results)

    def _url_hint(self) -> str:
        return "`searxng_url` valve or SEARXNG_URL"

    def _auth_hint(self) -> str:
        return (
            "SearXNG answers 403 when its JSON format is off: add `json` to "
            "`search.formats` in its settings.yml."
        )

    def _format_hint(self) -> str:
        return "Enable `json` under `search.formats` in SearXNG's settings.yml."


class TavilyBackend(SearchBackend):
    label = "Tavily"

    def search(self, query: str, max_results: int = 5) -> list[SearchResult]:
        if not self.api_key:
            raise SearchError(
                "Tavily needs an API key: set the `tavily_api_key` valve or TAVILY_API_KEY."
            )
        data = self._request(
            "POST",
            "/search",
            json={"query": query, "max_results": max_results},
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        return _results(_list(data, "results"), "content", max_results)

    def _url_hint(self) -> str:
        return "`tavily_url` valve"

    def _auth_hint(self) -> str:
        return "the key is wrong or expired: check the `tavily_api_key` valve or TAVILY_API_KEY."


class BraveBackend(SearchBackend):
    label = "Brave Search"

    def search(self, query: str, max_results: int = 5) -> list[SearchResult]:
        if not self.api_key:
            raise SearchError(
                "Brave Search needs an API key: set the `brave_api_key` valve or BRAVE_API_KEY."
            )
        data = self._request(
            "GET",
            "/res/v1/web/search",
            params={"q": query, "count": max_results},
            headers={"X-Subscription-Token": self.api_key, "Accept": "application/json"},
        )
        web = data.get("web") if isinstance(data, dict) else None
        return _results(_list(web or {}, "results"), "description", max_results)

    def _url_hint(self) -> str:
        return "`brave_url` valve"

    def _auth_hint(self) -> str:
        return "the key is wrong or expired: check the `brave_api_key` valve or BRAVE_API_KEY."


def _results(items: list[dict], snippet_key: str, max_results: int) -> list[SearchResult]:
    """The backends' result items as SearchResults; items without a URL are dropped."""
    return [
        SearchResult(item.get("title") or "", item.get("url") or "", item.get(snippet_key) or "")
        for item in items
        if item.get("url")
    ][:max_results]


def search_backend(chosen: SearchSettings) -> SearchBackend:
    """The backend the valves choose; an empty valve falls back to the environment."""
    if chosen.backend == "searxng":
        url = chosen.searxng_url.strip() or settings.searxng_url()
        return SearxngBackend(url, timeout_s=chosen.timeout_s)
    if chosen.backend == "tavily":
        url = chosen.tavily_url.strip() or settings.tavily_base_url()
        key = chosen.tavily_api_key.strip() or settings.tavily_api_key()
        return TavilyBackend(url, key, chosen.timeout_s)
    if chosen.backend == "brave":
        url = chosen.brave_url.strip() or settings.brave_base_url()
        key = chosen.brave_api_key.strip() or settings.brave_api_key()
        return BraveBackend(url, key, chosen.timeout_s)
    raise SearchError(f"Unknown search backend {chosen.backend!r}: use searxng, tavily or brave.")


def _list(data: Any, key: str) -> list[dict]:
    items = data.get(key) if isinstance(data, dict) else None
    return [item for item in items or [] if isinstance(item, dict)]
