"""The ingest crawler against the audit's probes (issue 17): a public site whose sitemap and
redirects point at internal services, a crawl of a private address, and a 60 MB page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiohttp import web

from pipekit.cli import main
from pipekit.rag import cli
from pipekit.rag.sources import Skipped, SourceDocument, SourceError, read_sources
from pipekit.testing.dns import PUBLIC, FakeDNS
from pipekit.testing.search import FakeWeb

HUGE = 60 * 1024 * 1024
MAX_BYTES = 1024 * 1024


class PublicSite(FakeWeb):
    """The fake web site, plus /huge.html: 60 MB of HTML written 64 KiB at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0  # bytes of /huge.html that left the server

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/huge.html", self._huge), *super().routes()]

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/html", "Content-Length": str(HUGE)}
        )
        await response.prepare(request)
        chunk = b"<p>" + b"x" * (64 * 1024 - 3)
        # Ends when the crawler stops reading (what we want): the write fails or is cancelled.
        while self.sent < HUGE:
            await response.write(chunk)
            self.sent += len(chunk)
        return response


@pytest.fixture
def public(dns: FakeDNS) -> Iterator[PublicSite]:
    """docs.test and mirror.test: public names whose address leads to the fake site."""
    with PublicSite() as site:
        dns.route(PUBLIC, site.port)
        dns.answer("docs.test", [PUBLIC])
        dns.answer("mirror.test", [PUBLIC])
        yield site


@pytest.fixture
def internal() -> Iterator[FakeWeb]:
    """A service on loopback that no probe may reach."""
    with FakeWeb() as web:
        yield web


def crawl(url: str, **options) -> tuple[list[str], dict[str, str]]:
    """(ids of the documents read, reasons of the ones skipped by id); links not followed."""
    items = list(read_sources([url], depth=0, delay_s=0, **options))
    documents = [item.doc_id for item in items if isinstance(item, SourceDocument)]
    return documents, {item.doc_id: item.reason for item in items if isinstance(item, Skipped)}


def test_sitemap_entries_on_other_hosts_are_skipped_and_never_requested(public, internal):
    secret = f"{internal.url}/python-313.html"
    public.pages["/sitemap.xml"] = (
        "application/xml",
        "<urlset><url><loc>http://docs.test/python-313.html</loc></url>"
        f"<url><loc>{secret}</loc></url>"
        "<url><loc>http://mirror.test/notes.txt</loc></url></urlset>".encode(),
    )
    documents, skipped = crawl("http://docs.test/sitemap.xml")
    assert internal.requests == []
    assert documents == ["http://docs.test/python-313.html"]
    assert skipped == {
        secret: "on another host, 127.0.0.1 (--allow-host 127.0.0.1 includes it)",
        "http://mirror.test/notes.txt": "on another host, mirror.test "
        "(--allow-host mirror.test includes it)",
    }


def test_redirects_to_another_host_are_skipped_and_never_followed(public, internal):
    public.redirects["/moved"] = f"{internal.url}/python-313.html"
    documents, skipped = crawl("http://docs.test/moved")
    assert internal.requests == [] and documents == []
    assert skipped == {
        "http://docs.test/moved": "redirects to another host, 127.0.0.1 "
        "(--allow-host 127.0.0.1 includes it)"
    }


def test_allowed_hosts_are_followed_and_still_get_the_address_check(public, internal):
    public.redirects["/moved"] = "http://mirror.test/python-313.html"
    public.pages["/sitemap.xml"] = (
        "application/xml",
        f"<urlset><url><loc>{internal.url}/python-313.html</loc></url>"
        "<url><loc>http://docs.test/moved</loc></url></urlset>".encode(),
    )
    documents, skipped = crawl(
        "http://docs.test/sitemap.xml", allowed_hosts=["mirror.test", "127.0.0.1"]
    )
    assert documents == ["http://docs.test/moved"]
    assert skipped == {
        f"{internal.url}/python-313.html": "127.0.0.1 is a private address (127.0.0.1); "
        "--allow-private crawls intranet sites"
    }
    assert internal.requests == []


def test_a_crawl_of_a_private_address_needs_allow_private(internal):
    url = f"{internal.url}/python-313.html"
    refused = crawl(url)
    assert internal.requests == []
    assert refused == (
        [],
        {url: "127.0.0.1 is a private address (127.0.0.1); --allow-private crawls intranet sites"},
    )
    assert crawl(url, allow_private=True) == ([url], {})


def test_a_huge_page_is_not_read_past_the_size_limit(public):
    documents, skipped = crawl("http://docs.test/huge.html", max_bytes=MAX_BYTES)
    # Stopped at the limit: what left the server is the limit plus what socket buffers held.
    assert public.sent < HUGE // 4
    assert (documents, skipped) == ([], {"http://docs.test/huge.html": "too large (over 1024 KiB)"})


def test_the_ingest_command_passes_allow_private_and_allow_host(monkeypatch, tmp_path):
    passed = {}

    def read_sources(sources, **options):
        passed.update(options)
        raise SourceError("stop here")

    monkeypatch.setattr(cli, "read_sources", read_sources)
    command = ["ingest", "http://wiki.corp/", "-c", "wiki", "--data-dir", str(tmp_path)]
    assert main([*command, "--allow-private", "--allow-host", "a.corp", "--allow-host", "b"]) == 2
    assert passed["allow_private"] is True and passed["allowed_hosts"] == ["a.corp", "b"]
    assert main(command) == 2
    assert passed["allow_private"] is False and passed["allowed_hosts"] == []
