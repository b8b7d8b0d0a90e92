"""Security audit probes (issue 17), sent over HTTP to a real `pipekit serve`: secrets in
valves, pipeline files over HTTP, oversized and deeply nested bodies, weak keys."""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import select
import socket
import threading
from collections.abc import Iterable, Iterator

import httpx
import pytest

from pipekit.server import cli as serve_cli
from pipekit.testing.fake_openai import FakeOpenAI, Reply
from tests.server.test_serve import GOOD, serve_once
from tests.support.owui import answer_text, chat_body, send_turn

OPENAI_KEY = "sk-live-0123456789abcdef-WXYZ"
MASK = "••••"

# Upstream's examples take a valve's default from the environment; that default must not
# reach /valves/spec. Alongside: a password inside a URL, a SecretStr, and look-alikes
# (`max_tokens`, `tokenizer`) that are not secrets.
KEYED = '''
"""
title: Keyed Test Pipe
"""
import os

from pydantic import BaseModel, Field, SecretStr


class Pipeline:
    class Valves(BaseModel):
        SEARCH_API_KEY: str = Field(os.getenv("KEYED_TEST_SEARCH_KEY", ""))
        redis_url: str = ""
        vault: SecretStr = SecretStr("")
        max_tokens: int = 256
        tokenizer: str = "cl100k_base"

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, user_message, model_id, messages, body):
        return "ok"
'''
ENV_SEARCH_KEY = "env-search-key-0000-1111-2222"


@pytest.fixture
def server(start_server, pipelines_dir):
    return start_server(extra_dirs=(pipelines_dir(good=GOOD),), args=("--no-bundled",))


# --- 10: secrets in valves ---------------------------------------------------------------


def test_secret_valves_are_masked_and_kept_when_posted_back(start_server, tmp_path):
    with FakeOpenAI(api_key=OPENAI_KEY) as fake:
        server = start_server(env={"OPENAI_BASE_URL": fake.url + "/v1"})
        stored = server.data_dir / "pipelines" / "chat" / "valves.json"
        with server.client() as client:
            updated = client.post(
                "/chat/valves/update",
                json={"backend": "openai", "model": "granite", "openai_api_key": OPENAI_KEY},
            )
            assert updated.status_code == 200 and OPENAI_KEY not in updated.text
            for path in ("/chat/valves", "/v1/chat/valves"):
                shown = client.get(path)
                assert OPENAI_KEY not in shown.text
                assert shown.json()["openai_api_key"] == MASK + "WXYZ"

            # The admin panel posts every valve back as shown.
            client.post("/chat/valves/update", json=shown.json()).raise_for_status()
            assert json.loads(stored.read_text())["openai_api_key"] == OPENAI_KEY
            fake.script(Reply(content="from vLLM"))
            assert answer_text(send_turn(client, chat_body("chat", "hi"))) == "from vLLM"
            assert fake.requests[-1]["headers"]["Authorization"] == f"Bearer {OPENAI_KEY}"

            stale = client.post("/chat/valves/update", json={"openai_api_key": MASK + "0000"})
            assert stale.status_code == 422
            assert [e["field"] for e in stale.json()["errors"]] == ["openai_api_key"]

            client.post(
                "/chat/valves/update", json={"openai_api_key": "sk-new-key-abcdefghij-5678"}
            ).raise_for_status()
            assert client.get("/chat/valves").json()["openai_api_key"] == MASK + "5678"
            assert json.loads(stored.read_text())["openai_api_key"] == "sk-new-key-abcdefghij-5678"
            send_turn(client, chat_body("chat", "hi"))
            assert (
                fake.requests[-1]["headers"]["Authorization"] == "Bearer sk-new-key-abcdefghij-5678"
            )


def test_valve_spec_env_defaults_url_passwords_and_secretstr_are_masked(
    start_server, pipelines_dir
):
    server = start_server(
        extra_dirs=(pipelines_dir(keyed=KEYED),),
        args=("--no-bundled",),
        env={"KEYED_TEST_SEARCH_KEY": ENV_SEARCH_KEY},
    )
    redis_url = "redis://:hunter2-redis-password@redis:6379/0"
    with server.client() as client:
        spec = client.get("/keyed/valves/spec")
        assert spec.status_code == 200 and ENV_SEARCH_KEY not in spec.text
        assert spec.json()["properties"]["SEARCH_API_KEY"]["default"] == MASK + "2222"

        client.post(
            "/keyed/valves/update", json={"redis_url": redis_url, "vault": "vault-secret-value"}
        ).raise_for_status()
        shown = client.get("/keyed/valves")
        assert "hunter2" not in shown.text and "vault-secret" not in shown.text
        assert ENV_SEARCH_KEY not in shown.text
        assert shown.json() == {
            "SEARCH_API_KEY": MASK + "2222",
            "redis_url": f"redis://:{MASK}word@redis:6379/0",
            "vault": MASK + "alue",
            "max_tokens": 256,
            "tokenizer": "cl100k_base",
        }
        client.post("/keyed/valves/update", json=shown.json()).raise_for_status()
    stored = json.loads((server.data_dir / "pipelines" / "keyed" / "valves.json").read_text())
    assert stored["redis_url"] == redis_url
    assert stored["vault"] == "vault-secret-value"
    assert stored["SEARCH_API_KEY"] == ENV_SEARCH_KEY


# --- 11: pipeline files over HTTP --------------------------------------------------------

PLAIN = b"""class Pipeline:
    def pipe(self, user_message, model_id, messages, body):
        return "up"
"""


@pytest.mark.parametrize("name", ["../x.py", "../../x.py", "sub/x.py", "x.txt", ".py", "x.py.sh"])
def test_upload_refuses_anything_but_a_plain_python_file_name(server, name):
    with server.client() as client:
        response = client.post("/pipelines/upload", files={"file": (name, PLAIN)})
    assert response.status_code == 400, response.text
    assert "my_pipeline.py" in response.json()["detail"]
    written = [path for path in server.data_dir.rglob("*") if path.name in ("x.py", "x.txt")]
    assert written == []


def test_upload_of_a_plain_python_file_is_served(server):
    with server.client() as client:
        response = client.post("/v1/pipelines/upload", files={"file": ("uploaded.py", PLAIN)})
        assert response.status_code == 200, response.text
        assert "uploaded" in {model["id"] for model in client.get("/models").json()["data"]}
    assert (server.data_dir / "pipelines" / "uploaded.py").read_bytes() == PLAIN


@pytest.fixture
def script_host(tmp_path) -> Iterator[str]:
    """A plain HTTP server offering one pipeline file, as a URL for /pipelines/add."""
    folder = tmp_path / "hosted"
    folder.mkdir()
    (folder / "remote.py").write_bytes(PLAIN)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/remote.py"
    httpd.shutdown()


def test_add_from_a_url_is_refused_by_default(server, script_host):
    with server.client() as client:
        for path in ("/pipelines/add", "/v1/pipelines/add"):
            response = client.post(path, json={"url": script_host})
            assert response.status_code == 403
            assert "--allow-remote-add" in response.json()["detail"]
    assert not (server.data_dir / "pipelines" / "remote.py").exists()


def test_add_from_a_url_works_with_the_flag(start_server, pipelines_dir, script_host):
    server = start_server(
        extra_dirs=(pipelines_dir(good=GOOD),), args=("--no-bundled", "--allow-remote-add")
    )
    with server.client() as client:
        client.post("/pipelines/add", json={"url": script_host}).raise_for_status()
    assert (server.data_dir / "pipelines" / "remote.py").read_bytes() == PLAIN


# --- 12: body size and nesting -----------------------------------------------------------


def send_in_pieces(
    server, method: str, path: str, headers: dict[str, str], pieces: Iterable[bytes]
) -> int:
    """Send a request over a plain socket and return the status the server answers with, as
    soon as it answers: a server that refuses early is heard before the body is finished."""
    head = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {server.api_key}",
    ]
    head += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for piece in pieces:
            if select.select([sock], [], [], 0)[0]:
                break
            sock.sendall(piece)
        status_line = sock.makefile("rb").readline()
    return int(status_line.split()[1])


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def assert_still_serving(server) -> None:
    assert server.process.poll() is None
    with server.client() as client:
        assert client.get("/good/valves").json() == {"greeting": "hello", "repeat": 1}


def test_declared_body_over_the_limit_is_refused_before_it_is_sent(server):
    for declared in (50 * 1024 * 1024, 16 * 1024 * 1024 + 1):
        status = send_in_pieces(
            server, "POST", "/good/valves/update", {"Content-Length": str(declared)}, pieces=()
        )
        assert status == 413
    assert_still_serving(server)


def test_chunked_body_over_the_limit_is_refused_while_it_arrives(start_server, pipelines_dir):
    server = start_server(
        extra_dirs=(pipelines_dir(good=GOOD),), args=("--no-bundled", "--max-body-mb", "1")
    )
    piece = b" " * 64 * 1024
    # 17 pieces pass 1 MB; the final zero-size chunk is never sent. DELETE is read by FastAPI
    # itself, POST first by the lone-surrogate scrub, upload by the multipart parser.
    for method, path, content_type in (
        ("POST", "/good/valves/update", "application/json"),
        ("DELETE", "/pipelines/delete", "application/json"),
        ("POST", "/pipelines/upload", "multipart/form-data; boundary=x"),
    ):
        headers = {"Transfer-Encoding": "chunked", "Content-Type": content_type}
        assert send_in_pieces(server, method, path, headers, [chunk(piece)] * 17) == 413, path
    assert_still_serving(server)


def test_body_limit_reads_the_environment(monkeypatch):
    monkeypatch.setenv("PIPEKIT_MAX_BODY_MB", "2.5")
    parser = argparse.ArgumentParser()
    serve_cli.register(parser.add_subparsers())
    assert parser.parse_args(["serve"]).max_body_mb == 2.5
    assert parser.parse_args(["serve", "--max-body-mb", "1"]).max_body_mb == 1
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--max-body-mb", "0"])


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000, b'{"greeting": ' + b"[" * 100_000, b'["\\ud800", ' + b"[" * 100_000],
    ids=["bare", "in-a-valve", "with-a-lone-surrogate"],
)
def test_deeply_nested_valves_json_is_a_422(server, body):
    with server.client() as client:
        response = client.post(
            "/good/valves/update", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 422, response.text
    assert "nested too deeply" in response.json()["detail"]
    assert "Traceback" not in server.log() and "RecursionError" not in server.log()
    assert_still_serving(server)


@pytest.mark.parametrize(
    "path", ["/chat/completions", "/v1/chat/completions", "/good/filter/inlet"]
)
def test_json_nested_under_the_parser_limit_is_a_422_on_every_route(server, path):
    # 950 levels parse, then break the route when it echoes or validates them: a bare 500.
    nested = "[" * 950 + "]" * 950
    body = f'{{"model": "good", "messages": [{{"role": "user", "content": {nested}}}]}}'
    with server.client() as client:
        response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert "nested too deeply" in response.json()["detail"]
    assert "Traceback" not in server.log() and "RecursionError" not in server.log()
    assert_still_serving(server)


# --- 16: weak keys on public hosts -------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_short_key_is_refused_on_a_public_host(tmp_path, host):
    short = "short-key-12345"  # 15 characters
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIPELINES_API_KEY": short}
    result = serve_once("--host", host, "--data-dir", str(tmp_path), env=env)
    assert result.returncode == 2
    assert "at least 16 characters" in result.stderr
    assert "secrets.token_urlsafe(32)" in result.stderr
    assert short not in result.stderr


def test_default_key_is_refused_on_ipv6_any(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = serve_once("--host", "::", "--data-dir", str(tmp_path), env=env)
    assert result.returncode == 2
    assert "well-known key" in result.stderr and "secrets.token_urlsafe(32)" in result.stderr


def test_sixteen_character_key_is_accepted_on_a_public_host(start_server, pipelines_dir):
    server = start_server(
        api_key="k" * 16,
        extra_dirs=(pipelines_dir(good=GOOD),),
        args=("--no-bundled", "--host", "0.0.0.0"),
    )
    assert httpx.get(server.url + "/models", headers=server.headers()).status_code == 200


def test_loopback_accepts_any_key(start_server, pipelines_dir):
    server = start_server(api_key="a", extra_dirs=(pipelines_dir(good=GOOD),))
    assert httpx.get(server.url + "/models", headers=server.headers()).status_code == 200


# --- kept green --------------------------------------------------------------------------


def test_options_head_and_odd_paths_need_the_key(server):
    preflight = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    probes = [
        ("OPTIONS", "/models", preflight),
        ("OPTIONS", "/good/valves/update", preflight),
        ("OPTIONS", "/v1/chat/completions", preflight),
        ("HEAD", "/good/valves", {}),
        ("GET", "/docs", {}),
        ("GET", "/openapi.json", {}),
        ("GET", "/v1/good/valves/", {}),
        ("GET", "//good/valves", {}),
        ("GET", "/pipekit/status", {}),
        ("GET", "/no/such/route", {}),
    ]
    for method, path, headers in probes:
        response = httpx.request(method, server.url + path, headers=headers)
        assert response.status_code == 401, (method, path)
        assert "greeting" not in response.text


def test_server_log_holds_no_message_text_or_secrets(start_server, pipelines_dir):
    echo_filter = (
        "class Pipeline:\n    def __init__(self):\n        self.type = 'filter'\n\n"
        "    async def inlet(self, body, user=None):\n        return body\n"
    )
    server = start_server(
        extra_dirs=(pipelines_dir(good=GOOD, keyed=KEYED, echo=echo_filter),),
        args=("--no-bundled",),
    )
    message = "my card is 4111-1111-1111-1111 and the launch code is 0000"
    secret = "sk-never-in-the-log-9f8e7d6c"
    with server.client() as client:
        for stream in (True, False):
            send_turn(client, chat_body("good", message, stream=stream)).raise_for_status()
        client.post(
            "/echo/filter/inlet", json={"body": chat_body("good", message)}
        ).raise_for_status()
        client.post("/keyed/valves/update", json={"SEARCH_API_KEY": secret}).raise_for_status()
        client.post("/keyed/valves/update", json={"SEARCH_API_KEY": secret, "max_tokens": "x"})
        client.post("/pipelines/upload", files={"file": ("../x.py", secret.encode())})
    log = server.log()
    assert log  # the server did write its log
    assert "4111" not in log and "launch code" not in log and secret not in log
