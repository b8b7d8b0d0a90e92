"""fetch_page against the audit's probes (issue 17): loopback and private addresses in every
spelling, and a DNS answer that changes between the address check and the connection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipekit.agents.web import FetchError, FetchSettings, read_page
from pipekit.testing.dns import PUBLIC
from pipekit.testing.search import FakeWeb


@pytest.fixture
def internal() -> Iterator[FakeWeb]:
    """A service on loopback that no probe may reach."""
    with FakeWeb() as web:
        yield web


PRIVATE_FORMS = [
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://127.1:{port}/",
    "http://2130706433:{port}/",
    "http://0x7f000001:{port}/",
    "http://017700000001:{port}/",
    "http://0.0.0.0:{port}/",
    "http://0:{port}/",
    "http://user@127.0.0.1:{port}/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
    "http://[::127.0.0.1]:{port}/",  # IPv4-compatible
    "http://[64:ff9b::7f00:1]:{port}/",  # NAT64
    "http://[64:ff9b::127.0.0.1]:{port}/",
    "http://[64:ff9b::a9fe:a9fe]:{port}/",  # NAT64 of 169.254.169.254
    "http://[64:ff9b:1::7f00:1]:{port}/",  # local-use NAT64
    "http://[2002:7f00:1::1]:{port}/",  # 6to4
    "http://[2002:a00:1::1]:{port}/",  # 6to4 of 10.0.0.1
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:{port}/",  # Teredo
    "http://10.0.0.1:{port}/",
    "http://172.16.0.1:{port}/",
    "http://192.168.1.1:{port}/",
    "http://100.64.0.1:{port}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]:{port}/",
    "http://[fc00::1]:{port}/",
]


@pytest.mark.parametrize("form", PRIVATE_FORMS)
def test_loopback_and_private_addresses_are_refused_in_every_spelling(form, internal):
    with pytest.raises(FetchError, match="is a private address"):
        read_page(form.format(port=internal.port), FetchSettings())
    assert internal.requests == []


@pytest.mark.parametrize(
    "url", ["gopher://127.0.0.1:70/", "dict://127.0.0.1:11211/", "data:text/html,<p>hi</p>"]
)
def test_other_schemes_are_refused(url):
    with pytest.raises(FetchError, match="only http and https"):
        read_page(url, FetchSettings())


def test_a_host_that_rebinds_to_loopback_after_the_check_is_never_connected_to(dns, internal):
    with FakeWeb() as public:
        dns.route(PUBLIC, public.port)
        dns.answer("rebind.test", [PUBLIC], ["127.0.0.1"])
        url = f"http://rebind.test:{internal.port}/python-313.html"
        title, _ = read_page(url, FetchSettings())
    assert title == "Python 3.13 release notes"
    assert internal.requests == [] and dns.lookups == ["rebind.test"]
    assert public.requests[0]["headers"]["host"] == f"rebind.test:{internal.port}"


@pytest.mark.parametrize(
    "answers", [[["127.0.0.1"], [PUBLIC]], [[PUBLIC, "127.0.0.1"]], [["::1"], [PUBLIC]]]
)
def test_a_host_with_any_private_answer_is_refused(answers, dns, internal):
    dns.route(PUBLIC, internal.port)  # were the public answer dialled, it would land here
    dns.answer("rebind.test", *answers)
    with pytest.raises(FetchError, match=r"rebind.test is a private address"):
        read_page(f"http://rebind.test:{internal.port}/python-313.html", FetchSettings())
    assert internal.requests == []


def test_allow_private_reads_an_intranet_host_by_name_with_its_host_header(dns, internal):
    dns.answer("wiki.corp", ["127.0.0.1"])
    url = f"http://wiki.corp:{internal.port}/python-313.html"
    title, text = read_page(url, FetchSettings(allow_private=True))
    assert title == "Python 3.13 release notes" and "free-threaded" in text
    (request,) = internal.requests
    assert request["headers"]["host"] == f"wiki.corp:{internal.port}"
