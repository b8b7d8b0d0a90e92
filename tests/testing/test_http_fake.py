"""HTTPFake, the server under every fake: what it records, and how it fails on purpose."""

from __future__ import annotations

import time

import httpx
import pytest

from pipekit.testing.http_fake import HTTPFake, Request, Response


class Echo(HTTPFake):
    def handle(self, request: Request) -> Response:
        if request["path"] == "/boom":
            raise RuntimeError("a bug in the fake")
        return Response.json({"seen": request["body"]}, 201, {"X-Fake": "yes"})


def test_requests_are_recorded_with_query_headers_and_parsed_body():
    with Echo() as fake:
        httpx.post(fake.url + "/a%20b?x=1&empty=", json={"k": [1, 2]}, headers={"X-Key": "v"})
        httpx.post(fake.url + "/form", data={"channel": "C1", "text": "hi"})
        httpx.post(fake.url + "/text", content=b"not json")
        httpx.get(fake.url + "/form")
        first = fake.requests[0]
        assert (first["method"], first["path"], first["query"]) == (
            "POST",
            "/a%20b",
            {"x": "1", "empty": ""},
        )
        assert first["headers"]["x-key"] == first["headers"]["X-Key"] == "v"
        assert fake.bodies() == [{"k": [1, 2]}, {"channel": "C1", "text": "hi"}, "not json", None]
        assert [r["method"] for r in fake.requests_to("/form")] == ["POST", "GET"]


def test_handle_answers_and_a_bug_in_it_is_a_500():
    with Echo() as fake:
        response = httpx.post(fake.url + "/x", json=1)
        assert (response.status_code, response.json(), response.headers["x-fake"]) == (
            201,
            {"seen": 1},
            "yes",
        )
        assert httpx.get(fake.url + "/boom").status_code == 500
    with HTTPFake() as bare:
        assert httpx.get(bare.url + "/anything").status_code == 404


def test_stall_trips_a_client_timeout_and_reset_clears_it():
    with Echo() as fake:
        fake.stall(3)
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(fake.url, timeout=0.3)
        assert time.monotonic() - started < 2
        fake.reset()
        assert fake.requests == [] and httpx.get(fake.url).status_code == 201


def test_refuse_then_accept_on_the_same_port():
    with Echo() as fake:
        port = fake.port
        fake.refuse()
        with pytest.raises(httpx.ConnectError):
            httpx.get(fake.url)
        fake.accept()
        assert fake.port == port and httpx.get(fake.url).status_code == 201
