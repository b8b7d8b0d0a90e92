"""The web tools: `web_search` (numbered results + source events) and `fetch_page`.

Both are built per chat turn, so they share one `Citations` numbering: result [2] of the
first search and a page read later keep the numbers the model cites, in the order Open WebUI
shows the source chips. Pages are cached per chat (same chat, same URL: fetched once), cut to
a size limit, read only over http(s), and by default never from private addresses, so a web
page cannot make the agent read internal services.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from pipekit.net import AddressNotAllowed, pinned_client, read_at_most
from pipekit.pipe.events import source
from pipekit.stores import SharedMap
from pipekit.tools import Tool, ToolResult, tool

from .search import SearchBackend

log = logging.getLogger(__name__)

_MAX_REDIRECTS = 5
_USER_AGENT = "pipekit-agent/0.1 (+https://github.com/open-webui/pipelines)"


class FetchError(RuntimeError):
    """The page could not be read; the message says why."""


@dataclass
class Citations:
    """Numbers for sources (URLs, or documents without one), first come first numbered,
    shared by every tool in a turn."""

    numbers: dict[str, int] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)

    def number(self, url: str, title: str = "") -> tuple[int, bool]:
        """(the source's number, whether it is new); `url` may be any key for a document."""
        if title and not self.titles.get(url):
            self.titles[url] = title
        if url in self.numbers:
            return self.numbers[url], False
        self.numbers[url] = len(self.numbers) + 1
        return self.numbers[url], True

    def footer(self, answer: str, every_source: bool = False) -> str:
        """A Sources list of the numbers the answer cites, with their real URLs; with
        `every_source`, of every source read when the answer cites none.

        Written by the pipe, not the model: a small model forgets the list or garbles URLs.
        Lines start with a bold "1." rather than "[1]", which Open WebUI would turn into a
        second citation button beside the link.
        """
        cited = {int(n) for n in re.findall(r"\[(\d{1,3})\]", answer)}
        if every_source and not cited & set(self.numbers.values()):
            cited = set(self.numbers.values())
        lines = [
            f"**{number}.** [{_markdown_text(self.titles.get(key) or key)}](<{key}>)"
            if key.startswith(("http://", "https://"))
            else f"**{number}.** {_markdown_text(self.titles.get(key) or key)}"  # a document
            for key, number in self.numbers.items()
            if number in cited
        ]
        return "\n\n**Sources**\n\n" + "  \n".join(lines) if lines else ""


def _markdown_text(title: str) -> str:
    return re.sub(r"([\[\]*_`])", r"\\\1", " ".join(title.split()))[:120]


def web_search_tool(backend: SearchBackend, citations: Citations, max_results: int) -> Tool:
    @tool(progress="Searching the web for {query}")
    def web_search(query: str, max_results: int = max_results) -> ToolResult:
        """Search the web. Returns numbered results (title, URL, snippet); cite them as [n].

        Args:
            query: What to search for, as you would type it into a search engine.
            max_results: How many results to return (1-10).
        """
        wanted = max(1, min(int(max_results), 10))
        results = backend.search(query, wanted)
        if not results:
            return ToolResult(f"No results for {query!r}. Try other words.")
        lines: list[str] = []
        events = []
        for result in results:
            number, new = citations.number(result.url, result.title)
            lines.append(f"[{number}] {result.title}\nURL: {result.url}\n{result.snippet}".strip())
            if new:
                events.append(source(result.title or result.url, result.snippet, url=result.url))
        return ToolResult("\n\n".join(lines), events=events)

    return web_search


class PageCache:
    """Pages read in a chat, keyed by (chat id, URL): the model re-reading a page is free. In
    Redis when one is set, so a chat's next turn on another replica finds them too."""

    def __init__(self, max_entries: int = 512, ttl_s: float = 3600.0) -> None:
        self._pages: SharedMap[list[str]] = SharedMap("pages", max_entries, ttl_s)

    def get(self, chat_id: str | None, url: str) -> tuple[str, str] | None:
        if not chat_id:
            return None
        page = self._pages.get(f"{chat_id}\n{url}")
        return (page[0], page[1]) if page else None

    def put(self, chat_id: str | None, url: str, title: str, text: str) -> None:
        if not chat_id:  # no chat to scope it to: do not share pages between users
            return
        self._pages.put(f"{chat_id}\n{url}", [title, text])


PAGE_CACHE = PageCache()


@dataclass(frozen=True)
class FetchSettings:
    timeout_s: float = 15.0
    max_bytes: int = 2 * 1024 * 1024
    allow_private: bool = False


def fetch_page_tool(
    citations: Citations,
    chat_id: str | None,
    settings: FetchSettings | None = None,
    cache: PageCache = PAGE_CACHE,
) -> Tool:
    settings = settings or FetchSettings()

    @tool(progress="Reading {url}")
    def fetch_page(url: str) -> ToolResult:
        """Read a web page and return its main text (menus and ads removed).

        Args:
            url: The http(s) address of the page, e.g. a URL from web_search results.
        """
        cached = cache.get(chat_id, url)
        if cached is None:
            title, text = read_page(url, settings)
            cache.put(chat_id, url, title, text)
        else:
            title, text = cached
        number, new = citations.number(url, title)
        events = [source(title or url, text[:1000], url=url)] if new else []
        return ToolResult(f"[{number}] {title}\nURL: {url}\n\n{text}", events=events)

    return fetch_page


def read_page(url: str, settings: FetchSettings) -> tuple[str, str]:
    """(title, main text) of an HTML or plain-text page; FetchError says what went wrong."""
    current = url
    with pinned_client(
        allow_private=settings.allow_private,
        timeout=settings.timeout_s,
        headers={"User-Agent": _USER_AGENT},
    ) as client:
        # Redirects are followed by hand: each hop gets the same checks, and the client
        # connects only to an address it checked (no second DNS lookup).
        for _ in range(_MAX_REDIRECTS + 1):
            _check_url(current)
            try:
                with client.stream("GET", current) as response:
                    if response.is_redirect and response.headers.get("location"):
                        current = urljoin(current, response.headers["location"])
                        continue
                    if response.status_code >= 400:
                        raise FetchError(f"{current} answered HTTP {response.status_code}.")
                    content_type = response.headers.get("content-type", "").lower()
                    body, cut = read_at_most(response, settings.max_bytes)
                    if cut:
                        log.info("page cut at %d bytes", settings.max_bytes)
                    # Only a declared charset is trusted; else the page's own <meta> decides.
                    encoding = response.charset_encoding
            except AddressNotAllowed as refused:
                raise FetchError(
                    f"{refused}; fetch_page does not read internal services unless the "
                    "`fetch_private_urls` valve is on."
                ) from None
            except httpx.TimeoutException:
                raise FetchError(
                    f"{current} did not answer within {settings.timeout_s:g} s."
                ) from None
            except httpx.HTTPError as error:
                raise FetchError(
                    f"{current} is not reachable ({error or type(error).__name__})."
                ) from None
            return _main_text(current, content_type, body, encoding)
    raise FetchError(f"{url} redirects more than {_MAX_REDIRECTS} times.")


def _main_text(url: str, content_type: str, body: bytes, encoding: str | None) -> tuple[str, str]:
    text = body.decode(encoding or "utf-8", errors="replace")
    if "html" in content_type or (not content_type and text.lstrip()[:1] == "<"):
        import trafilatura

        # Bytes when no charset was declared: trafilatura reads <meta charset> (EUC-KR pages).
        page: str | bytes = text if encoding else body
        main = trafilatura.extract(page, url=url, include_comments=False) or ""
        metadata = trafilatura.extract_metadata(page)
        title = (metadata.title if metadata else "") or ""
        if not main.strip():
            raise FetchError(f"{url} has no readable text (a script-only page?).")
        return title, main.strip()
    if content_type.startswith(("text/plain", "text/markdown")):
        return "", text.strip()
    kind = content_type.split(";")[0] or "unknown"
    raise FetchError(
        f"{url} is not a web page (content type {kind}); fetch_page reads HTML and plain text."
    )


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"fetch_page reads only http and https URLs, not {parts.scheme or url!r}.")
    if not parts.hostname:
        raise FetchError(f"{url!r} has no host name.")
