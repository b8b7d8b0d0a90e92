"""Fixtures for the MCP tests: the fake cluster and Slack, and our MCP servers as subprocesses.

Servers and fakes are module-scoped: starting a Python MCP server costs about a second on
two cores, so each module starts what it needs once. Tests that change state use their own
objects (web/nginx for writes), or a fresh function-scoped fake.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipekit.testing.server import PIPEKIT, free_port
from pipekit.testing.slack import TOKEN, FakeSlack
from tests.support.cluster import Cluster


@dataclass
class HTTPServer:
    process: subprocess.Popen
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_http_server(
    args: list[str], log: Path, *, env: dict[str, str] | None = None, port: int | None = None
) -> HTTPServer:
    """`pipekit mcp … --transport http|sse` on a free port; returns once the port accepts."""
    port = port or free_port()
    path = "/sse" if "sse" in args else "/mcp"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*PIPEKIT, "mcp", *args, "--port", str(port)],
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"MCP server exited early:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return HTTPServer(process, f"http://127.0.0.1:{port}{path}", log)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"MCP server did not listen within 30 s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def http_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., HTTPServer]]:
    """Start HTTP MCP servers for this module; all are stopped at its end."""
    started: list[HTTPServer] = []
    folder = tmp_path_factory.mktemp("mcp-logs")

    def start(*args: str, env: dict[str, str] | None = None, port: int | None = None) -> HTTPServer:
        server = start_http_server(list(args), folder / f"{len(started)}.log", env=env, port=port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def openshift_stdio(cluster: Cluster, name: str = "openshift", *extra: str, **spec: object) -> dict:
    """A client spec that starts `pipekit mcp openshift` over stdio against the fake."""
    return {
        "name": name,
        "command": PIPEKIT[0],
        "args": [*PIPEKIT[1:], "mcp", "openshift", "--kubeconfig", str(cluster.kubeconfig), *extra],
        **spec,
    }


def slack_stdio(slack: FakeSlack, name: str = "slack", *extra: str, **spec: object) -> dict:
    return {
        "name": name,
        "command": PIPEKIT[0],
        "args": [*PIPEKIT[1:], "mcp", "slack", *extra],
        "env": {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url},
        **spec,
    }
