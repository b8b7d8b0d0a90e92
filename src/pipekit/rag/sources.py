"""Where documents come from: folders of files, and web sites crawled politely.

Every source yields `SourceDocument`s with a stable id (the path relative to the folder, or
the URL), so a re-run recognises what it saw before. What cannot be read is not an error that
stops the run: it becomes a `Skipped` with the reason, and the indexer keeps what it had.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import urllib.robotparser
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlparse

import httpx

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".rst", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
READER_SUFFIXES = {".pdf", ".docx"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | READER_SUFFIXES
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
USER_AGENT = "pipekit-ingest/0.1 (+https://github.com/pipekit)"


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
) -> Iterator[SourceItem]:
    for source in sources:
        if source.startswith(("http://", "https://")):
            crawler = WebCrawler(delay_s=delay_s, timeout_s=timeout_s, max_bytes=max_bytes)
            yield from crawler.crawl(source, depth=depth, max_pages=max_pages)
        else:
            yield from read_folder(Path(source), max_bytes=max_bytes)


# --- folders ----------------------------------------------------------------------------


def read_folder(root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[SourceItem]:
    root = root.expanduser()
    if not root.exists():
        raise SourceError(f"{root} does not exist")
    origin = str(root.resolve())
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    for path in files:
        relative = path.name if root.is_file() else path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in Path(relative).parts):
            continue  # .git, .DS_Store, editor swap files: never documents
        yield read_file(path, relative, origin, max_bytes=max_bytes)


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
                    _first_heading(decoded, markdown=suffix in (".md", ".markdown")),
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
    return _first_heading(text), text


def _first_heading(text: str, *, markdown: bool = True) -> str:
    from .chunking import document_title  # chunking imports this module

    return document_title(text, markdown=markdown)


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


class WebCrawler:
    """A URL, a sitemap, or a page whose same-site links are followed to a depth.

    Polite: robots.txt is obeyed, requests to a site are spaced by `delay_s`, every request
    has a timeout, and only HTML (or sitemap XML) is read.
    """

    def __init__(self, *, delay_s: float = 1.0, timeout_s: float = 20.0, max_bytes: int) -> None:
        self.delay_s = delay_s
        self.max_bytes = max_bytes
        self._client = httpx.Client(
            timeout=timeout_s, follow_redirects=True, headers={"User-Agent": USER_AGENT}
        )
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._last_request: dict[str, float] = {}

    def crawl(self, start: str, *, depth: int, max_pages: int) -> Iterator[SourceItem]:
        origin = start
        seen: set[str] = set()
        queue: list[tuple[str, int]] = [(urldefrag(start)[0], 0)]
        pages = 0
        try:
            while queue and pages < max_pages:
                url, level = queue.pop(0)
                if url in seen:
                    continue
                seen.add(url)
                if not self._allowed(url):
                    yield Skipped(url, origin, "disallowed by robots.txt")
                    continue
                try:
                    response = self._get(url)
                except httpx.HTTPError as error:
                    yield Skipped(url, origin, f"fetch failed: {type(error).__name__}: {error}")
                    continue
                if response.status_code >= 400:
                    yield Skipped(url, origin, f"HTTP {response.status_code}")
                    continue
                kind = response.headers.get("content-type", "").split(";")[0].strip()
                body = response.text
                if _is_sitemap(url, kind, body):
                    queue.extend(
                        (loc, level) for loc in _sitemap_locations(body) if loc not in seen
                    )
                    continue
                if kind not in ("text/html", "application/xhtml+xml", ""):
                    yield Skipped(url, origin, f"not HTML ({kind})")
                    continue
                if len(response.content) > self.max_bytes:
                    yield Skipped(url, origin, "page too large")
                    continue
                pages += 1
                title, text = html_to_text(body, url)
                if text:
                    yield SourceDocument(
                        url, title or url, text, origin, {"source": url, "url": url, "type": "web"}
                    )
                else:
                    yield Skipped(url, origin, "no main text found")
                if level < depth:
                    for link in _same_site_links(body, url, start):
                        if link not in seen:
                            queue.append((link, level + 1))
        finally:
            self._client.close()

    def _get(self, url: str) -> httpx.Response:
        host = urlparse(url).netloc
        wait = self._last_request.get(host, 0.0) + self.delay_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            return self._client.get(url)
        finally:
            self._last_request[host] = time.monotonic()

    def _allowed(self, url: str) -> bool:
        parts = urlparse(url)
        base = f"{parts.scheme}://{parts.netloc}"
        if base not in self._robots:
            parser: urllib.robotparser.RobotFileParser | None = urllib.robotparser.RobotFileParser()
            try:
                response = self._get(f"{base}/robots.txt")
                if response.status_code >= 400:
                    parser = None  # no robots.txt: everything allowed
                else:
                    parser.parse(response.text.splitlines())
            except httpx.HTTPError:
                parser = None
            self._robots[base] = parser
        parser = self._robots[base]
        return parser is None or parser.can_fetch(USER_AGENT, url)


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
