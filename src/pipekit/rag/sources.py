"""Where documents come from: folders of files, and web sites crawled politely.

Every source yields `SourceDocument`s with a stable id (the path relative to the folder, or
the URL), so a re-run recognises what it saw before. What cannot be read is not an error that
stops the run: it becomes a `Skipped` with the reason, and the indexer keeps what it had.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
import urllib.robotparser
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlparse

import httpx

from pipekit.net import AddressNotAllowed, pinned_client, read_at_most

from .headings import document_title

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".rst", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
READER_SUFFIXES = {".pdf", ".docx"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | READER_SUFFIXES
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
USER_AGENT = "pipekit-ingest/0.1 (+https://github.com/pipekit)"
MAX_REDIRECTS = 5


@dataclass
class SourceDocument:
    doc_id: str  # path relative to its folder, or the URL
    title: str
    text: str  # markdown-ish: '#' headings are kept for section-aware chunking
    origin: str  # the folder or start URL it came from: removal is scoped to it
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.text}".encode()).hexdigest()


@dataclass
class Skipped:
    doc_id: str
    origin: str
    reason: str


SourceItem = SourceDocument | Skipped


class SourceError(ValueError):
    """A source given on the command line does not exist or cannot be used at all."""


def read_sources(
    sources: list[str],
    *,
    depth: int = 1,
    max_pages: int = 200,
    delay_s: float = 1.0,
    timeout_s: float = 20.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_private: bool = False,
    allowed_hosts: Iterable[str] = (),
) -> Iterator[SourceItem]:
    """Documents from folders, files and web sites. A crawl reads only public addresses unless
    `allow_private` (intranet wikis), and only the start page's host plus `allowed_hosts`."""
    for source in sources:
        if source.startswith(("http://", "https://")):
            crawler = WebCrawler(
                delay_s=delay_s,
                timeout_s=timeout_s,
                max_bytes=max_bytes,
                allow_private=allow_private,
                allowed_hosts=allowed_hosts,
            )
            yield from crawler.crawl(source, depth=depth, max_pages=max_pages)
        else:
            yield from read_folder(Path(source), max_bytes=max_bytes)


# --- folders ----------------------------------------------------------------------------


def read_folder(root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[SourceItem]:
    """Every file under `root`. A link that leads out of the folder is skipped (a shared
    collection must not index /etc/passwd through docs/passwd.txt); links to folders are not
    walked: the ones inside are read where they really are, and no link cycle can loop."""
    root = root.expanduser()
    if not root.exists():
        raise SourceError(f"{root} does not exist")
    real_root = root.resolve()
    origin = str(real_root)
    if root.is_file():
        yield read_file(root, root.name, origin, max_bytes=max_bytes)
        return
    for path in _folder_entries(root):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink() and not (target := path.resolve()).is_relative_to(real_root):
            yield Skipped(relative, origin, f"a link to {target}, outside the folder")
        elif path.is_file():
            yield read_file(path, relative, origin, max_bytes=max_bytes)


def _folder_entries(root: Path) -> list[Path]:
    """Files and links under `root`, sorted, without descending into links to folders."""
    entries: list[Path] = []
    for folder, subfolders, files in os.walk(root):  # followlinks=False
        # .git, .DS_Store, editor swap files: never documents
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        links = [name for name in subfolders if Path(folder, name).is_symlink()]
        entries += [Path(folder, name) for name in [*files, *links] if not name.startswith(".")]
    return sorted(entries)


def read_file(path: Path, doc_id: str, origin: str, *, max_bytes: int) -> SourceItem:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return Skipped(doc_id, origin, f"unsupported file type {suffix or '(none)'}")
    size = path.stat().st_size
    if size > max_bytes:
        return Skipped(doc_id, origin, f"too large ({size // 1024} KiB > {max_bytes // 1024} KiB)")
    if size == 0:
        return Skipped(doc_id, origin, "empty file")
    try:
        if suffix in READER_SUFFIXES:
            title, text = _read_with_llamaindex(path)
        else:
            raw = path.read_bytes()
            if b"\x00" in raw[:8192]:
                return Skipped(doc_id, origin, "binary content")
            decoded = raw.decode("utf-8")
            if suffix in HTML_SUFFIXES:
                title, text = html_to_text(decoded)
            else:
                title, text = (
                    document_title(decoded, markdown=suffix in (".md", ".markdown")),
                    decoded,
                )
    except UnicodeDecodeError:
        return Skipped(doc_id, origin, "not UTF-8 text")
    except Exception as error:  # a broken PDF/DOCX must not stop the run
        return Skipped(doc_id, origin, f"unreadable: {type(error).__name__}: {error}"[:200])
    if not text.strip():
        return Skipped(doc_id, origin, "no text found")
    return SourceDocument(
        doc_id=doc_id,
        title=title or Path(doc_id).stem.replace("-", " ").replace("_", " "),
        text=text,
        origin=origin,
        metadata={"source": doc_id, "type": suffix.lstrip(".")},
    )


def _read_with_llamaindex(path: Path) -> tuple[str, str]:
    if path.suffix.lower() == ".pdf":
        from llama_index.readers.file import PDFReader

        pages = PDFReader(return_full_document=True).load_data(path)
    else:
        from llama_index.readers.file import DocxReader

        pages = DocxReader().load_data(path)
    text = "\n\n".join(page.text for page in pages)
    return document_title(text), text


def html_to_text(html: str, url: str | None = None) -> tuple[str, str]:
    """Main text as markdown (headings kept), without menus and footers, plus the title."""
    import trafilatura

    text = trafilatura.extract(
        html,
        url=url,
        output_format="markdown",
        include_comments=False,
        include_tables=True,
        favor_recall=True,
    )
    metadata = trafilatura.extract_metadata(html)
    title = (metadata.title if metadata and metadata.title else "") or _html_title(html)
    return title.strip(), (text or "").strip()


def _html_title(html: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", html, re.S | re.I)
    return re.sub(r"\s+", " ", match.group(1)).strip() if match else ""


# --- the web ----------------------------------------------------------------------------


class _NotFetched(Exception):
    """A page the crawl does not read; the message is the reason shown in the summary."""


@dataclass
class _Page:
    url: str  # where it was found, after redirects
    status: int
    kind: str  # the content type without its parameters
    text: str


class WebCrawler:
    """A URL, a sitemap, or a page whose same-site links are followed to a depth.

    Polite: robots.txt is obeyed, requests to a site are spaced by `delay_s`, every request
    has a timeout, and only HTML (or sitemap XML) is read. Safe to point at an untrusted site:
    it connects only to public addresses unless `allow_private`, follows redirects and sitemap
    entries only to the start page's host and `allowed_hosts`, and stops reading a body at
    `max_bytes`.
    """

    def __init__(
        self,
        *,
        delay_s: float = 1.0,
        timeout_s: float = 20.0,
        max_bytes: int,
        allow_private: bool = False,
        allowed_hosts: Iterable[str] = (),
    ) -> None:
        self.delay_s = delay_s
        self.max_bytes = max_bytes
        self.allowed_hosts = {host.lower() for host in allowed_hosts}
        self._client = pinned_client(
            allow_private=allow_private, timeout=timeout_s, headers={"User-Agent": USER_AGENT}
        )
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._last_request: dict[str, float] = {}

    def crawl(self, start: str, *, depth: int, max_pages: int) -> Iterator[SourceItem]:
        origin = start
        hosts = {urlparse(start).hostname, *self.allowed_hosts}
        seen: set[str] = set()
        queue: list[tuple[str, int]] = [(urldefrag(start)[0], 0)]
        pages = 0
        try:
            while queue and pages < max_pages:
                url, level = queue.pop(0)
                if url in seen:
                    continue
                seen.add(url)
                try:
                    _check_host(url, hosts, "on another host")
                    if not self._allowed(url, hosts):
                        yield Skipped(url, origin, "disallowed by robots.txt")
                        continue
                    page = self._get(url, hosts)
                except _NotFetched as reason:
                    yield Skipped(url, origin, str(reason))
                    continue
                if page.status >= 400:
                    yield Skipped(url, origin, f"HTTP {page.status}")
                    continue
                if _is_sitemap(url, page.kind, page.text):
                    queue.extend(
                        (loc, level) for loc in _sitemap_locations(page.text) if loc not in seen
                    )
                    continue
                if page.kind not in ("text/html", "application/xhtml+xml", ""):
                    yield Skipped(url, origin, f"not HTML ({page.kind})")
                    continue
                pages += 1
                title, text = html_to_text(page.text, page.url)
                if text:
                    yield SourceDocument(
                        url, title or url, text, origin, {"source": url, "url": url, "type": "web"}
                    )
                else:
                    yield Skipped(url, origin, "no main text found")
                if level < depth:
                    for link in _same_site_links(page.text, page.url, start):
                        if link not in seen:
                            queue.append((link, level + 1))
        finally:
            self._client.close()

    def _get(self, url: str, hosts: set[str | None]) -> _Page:
        # Redirects are followed by hand: each hop must stay on the allowed hosts.
        for _ in range(MAX_REDIRECTS + 1):
            with self._request(url) as response:
                if response.is_redirect and "location" in response.headers:
                    url = urldefrag(urljoin(url, response.headers["location"]))[0]
                    _check_host(url, hosts, "redirects to another host")
                    continue
                body, more = read_at_most(response, self.max_bytes)
                if more:
                    raise _NotFetched(f"too large (over {self.max_bytes // 1024} KiB)")
                kind = response.headers.get("content-type", "").split(";")[0].strip()
                text = body.decode(response.encoding or "utf-8", errors="replace")
                return _Page(url, response.status_code, kind, text)
        raise _NotFetched(f"more than {MAX_REDIRECTS} redirects")

    @contextmanager
    def _request(self, url: str) -> Iterator[httpx.Response]:
        """A streamed GET, spaced from the last request to the same site; errors as reasons."""
        site = urlparse(url).netloc
        wait = self._last_request.get(site, 0.0) + self.delay_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            with self._client.stream("GET", url) as response:
                yield response
        except AddressNotAllowed as refused:
            raise _NotFetched(f"{refused}; --allow-private crawls intranet sites") from None
        except httpx.HTTPError as error:
            raise _NotFetched(f"fetch failed: {type(error).__name__}: {error}") from None
        finally:
            self._last_request[site] = time.monotonic()

    def _allowed(self, url: str, hosts: set[str | None]) -> bool:
        parts = urlparse(url)
        base = f"{parts.scheme}://{parts.netloc}"
        if base not in self._robots:
            parser: urllib.robotparser.RobotFileParser | None = urllib.robotparser.RobotFileParser()
            try:
                robots = self._get(f"{base}/robots.txt", hosts)
                if robots.status >= 400:
                    parser = None  # no robots.txt: everything allowed
                else:
                    parser.parse(robots.text.splitlines())
            except _NotFetched:
                parser = None
            self._robots[base] = parser
        parser = self._robots[base]
        return parser is None or parser.can_fetch(USER_AGENT, url)


def _check_host(url: str, hosts: set[str | None], what: str) -> None:
    host = urlparse(url).hostname
    if host not in hosts:
        raise _NotFetched(f"{what}, {host} (--allow-host {host} includes it)")


def _is_sitemap(url: str, kind: str, body: str) -> bool:
    return (kind.endswith("xml") or url.endswith(".xml")) and "<urlset" in body[:2000]


def _sitemap_locations(body: str) -> list[str]:
    return [loc.strip() for loc in re.findall(r"<loc>\s*([^<]+?)\s*</loc>", body)]


def _same_site_links(html: str, page_url: str, start: str) -> list[str]:
    site = urlparse(start)
    prefix = start.rsplit("/", 1)[0] + "/" if not start.endswith("/") else start
    links = []
    for href in re.findall(r"""<a\s[^>]*href=["']([^"'#]+)""", html, re.I):
        url = urldefrag(urljoin(page_url, href))[0]
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https") and parsed.netloc == site.netloc:
            if url.startswith(prefix) or prefix == f"{site.scheme}://{site.netloc}/":
                links.append(url)
    return links
