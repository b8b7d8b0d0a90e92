"""pipekit's MCP client: configuration, failing servers, timeouts, threads, reconnects."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from pipekit.mcp.client import (
    MCPClient,
    MCPTimeout,
    MCPToolError,
    MCPUnavailable,
    ServerSpec,
    parse_servers,
)
from pipekit.testing.http_fake import HTTPFake
from pipekit.testing.kubernetes import FakeKubernetes
from pipekit.testing.server import free_port
from tests.mcp.conftest import openshift_stdio
from tests.support.cluster import Cluster

# --- configuration ------------------------------------------------------------------------


def test_config_accepts_json_yaml_and_claude_desktop_format():
    yaml_text = """
- name: k8s
  url: http://kube-mcp:8080/mcp
  read_only: true
- name: slack
  command: pipekit
  args: [mcp, slack]
  env: {SLACK_BOT_TOKEN: "${SLACK_BOT_TOKEN}"}
"""
    k8s, slack = parse_servers(yaml_text)
    assert (k8s.transport, k8s.read_only, slack.transport) == ("http", True, "stdio")
    claude = (
        '{"mcpServers": {"kubernetes": {"command": "npx", '
        '"args": ["-y", "kubernetes-mcp-server@latest"]}, "legacy": {"url": "http://h:1/sse"}}}'
    )
    kube, legacy = parse_servers(claude)
    assert (kube.name, kube.command, legacy.transport) == ("kubernetes", "npx", "sse")
    assert parse_servers("") == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('[{"name": "x"}]', "exactly one of command or url"),
        ('[{"name": "x", "url": "http://h/mcp", "timeout": 3}]', "Extra inputs are not permitted"),
        ('[{"name": "a", "url": "http://h/mcp"}, {"name": "a", "url": "http://g/mcp"}]', "unique"),
        ("name: [unclosed", "neither JSON nor YAML"),
    ],
)
def test_bad_config_is_reported_not_raised(config, message):
    with pytest.raises(ValueError, match=message):
        parse_servers(config)
    with MCPClient.from_config(config) as client:
        assert client.tools() == []
        assert message in client.problems[0]


def test_where_never_shows_credentials():
    spec = ServerSpec(
        name="x",
        url="https://user:secret@mcp.example.com/mcp",
        headers={"Authorization": "Bearer t"},
    )
    assert spec.where == "https://mcp.example.com/mcp"


# --- failing servers ----------------------------------------------------------------------


@pytest.fixture
def silent() -> Iterator[HTTPFake]:
    """Accepts connections and never answers in time: a hung server."""
    with HTTPFake() as server:
        server.stall(30)
        yield server


def test_down_slow_and_broken_servers_are_reported_and_the_rest_work(cluster: Cluster, silent):
    crash = "import sys; print('SLACK_BOT_TOKEN is not set', file=sys.stderr); sys.exit(2)"
    specs = parse_servers(
        [
            openshift_stdio(cluster, "k8s"),
            {"name": "down", "url": f"http://127.0.0.1:{free_port()}/mcp"},
            {"name": "slow", "url": f"{silent.url}/mcp", "timeout_s": 2},
            {"name": "missing", "command": "/nonexistent/mcp-server"},
            {"name": "crash", "command": sys.executable, "args": ["-c", crash]},
        ]
    )
    started = time.monotonic()
    with MCPClient(specs) as client:
        assert time.monotonic() - started < 15
        problems = "\n".join(client.problems)
        assert "MCP server down (http://127.0.0.1:" in problems and "not reachable" in problems
        assert "MCP server slow" in problems and "no answer within 2 s" in problems
        assert "cannot start '/nonexistent/mcp-server'" in problems
        assert "stderr: SLACK_BOT_TOKEN is not set" in problems
        assert len(client.problems) == 4
        assert {t.origin for t in client.tools()} == {"mcp:k8s"}
        assert "nginx" in client.call("k8s", "pods_list", {"namespace": "web"})
        with pytest.raises(MCPUnavailable, match="down is not connected"):
            client.call("down", "anything", {})


def test_a_slow_call_times_out_and_the_session_survives(tmp_path):
    with FakeKubernetes() as fake:
        cluster = Cluster(fake, fake.kubeconfig(tmp_path / "config"))
        with MCPClient(parse_servers([openshift_stdio(cluster, "k8s")])) as client:
            fake.stall(2)
            with pytest.raises(MCPTimeout, match="k8s/pods_list did not answer within 1 s"):
                client.call("k8s", "pods_list", {"namespace": "shop"}, timeout_s=1)
            fake.stall(0)
            assert "checkout" in client.call("k8s", "pods_list", {"namespace": "shop"})


# --- using the tools ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair(cluster: Cluster, http_servers) -> Iterator[MCPClient]:
    """A read-only-configured stdio server and an HTTP server with the same tool names."""
    http = http_servers("openshift", "--kubeconfig", str(cluster.kubeconfig), "--transport", "http")
    specs = parse_servers(
        [
            openshift_stdio(
                cluster, "k8s", read_only=True, exclude=["routes_*"], writes=["pods_log"]
            ),
            {"name": "other", "url": http.url, "reads": ["deployment_restart"]},
        ]
    )
    with MCPClient(specs) as client:
        yield client


def test_read_only_config_drops_writes_and_patterns_override_annotations(pair):
    mine = {t.name for t in pair.tools() if t.origin == "mcp:k8s"}
    assert "deployment_scale" not in mine and "routes_list" not in mine
    assert "pods_log" not in mine  # declared a write here, so read_only drops it
    with pytest.raises(MCPToolError, match="Refused: deployment_scale"):
        pair.call("k8s", "deployment_scale", {"namespace": "web", "name": "nginx", "replicas": 1})
    other = {t.name: t for t in pair.tools() if t.origin == "mcp:other"}
    # Not taken by k8s (it dropped them), so no prefix needed.
    assert other["deployment_restart"].writes is False  # `reads` overrides the annotation
    assert other["deployment_scale"].writes is True


def test_same_tool_names_get_the_server_prefix(pair):
    names = [t.name for t in pair.tools()]
    assert len(names) == len(set(names))
    assert "pods_list" in names and "other_pods_list" in names


def test_tools_run_from_worker_threads_and_inside_running_event_loops(pair):
    tool = next(t for t in pair.tools() if t.name == "pods_list")
    results: list[str] = []

    def worker() -> None:
        results.append(tool.run(namespace="batch"))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 4 and all("ml-trainer" in r for r in results)

    async def inside_a_loop() -> tuple[str, str]:
        blocking = tool.run(namespace="web")  # e.g. a sync helper called from async code
        awaited = await pair.acall("other", "pods_list", {"namespace": "payments"})
        return blocking, awaited

    blocking, awaited = asyncio.run(inside_a_loop())
    assert "nginx" in blocking and "payments-api" in awaited


def test_a_server_that_goes_away_is_reported_and_reconnected(cluster: Cluster, http_servers):
    port = free_port()
    args = ("openshift", "--kubeconfig", str(cluster.kubeconfig), "--transport", "http")
    server = http_servers(*args, port=port)
    spec = parse_servers([{"name": "k8s", "url": server.url, "timeout_s": 10}])
    with MCPClient(spec, retry_after_s=0) as client:
        assert "nginx" in client.call("k8s", "pods_list", {"namespace": "web"})
        server.stop()
        with pytest.raises(MCPUnavailable):
            client.call("k8s", "pods_list", {"namespace": "web"})
        assert client.status()["k8s"].startswith("down:")
        http_servers(*args, port=port)
        assert "nginx" in client.call("k8s", "pods_list", {"namespace": "web"})
        assert client.status()["k8s"] == "connected"
