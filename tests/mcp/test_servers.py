"""Both MCP servers over stdio, streamable HTTP (and SSE), through pipekit's MCP client.

Real mcp SDK on both sides: `pipekit mcp openshift|slack` run as subprocesses against the
fake cluster and the fake Slack; the client turns their tools into `Tool`s.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from pipekit.mcp.budget import Budget
from pipekit.mcp.client import MCPClient, MCPToolError, parse_servers
from pipekit.testing.kubernetes import FakeKubernetes
from pipekit.testing.slack import TOKEN, FakeSlack
from tests.mcp.conftest import openshift_stdio, slack_stdio
from tests.support.cluster import Cluster

MCP_TOKEN = "mcp-test-token-5d1"
OPENSHIFT_READS = {
    "namespaces_list",
    "pods_list",
    "pods_get",
    "pods_log",
    "events_list",
    "deployments_list",
    "deployments_get",
    "routes_list",
    "helm_releases_list",
}
OPENSHIFT_WRITES = {"deployment_restart", "deployment_scale"}
SLACK_READS = {"channels_list", "channel_history"}
SLACK_WRITES = {"post_message", "reply_in_thread", "add_reaction"}


@pytest.fixture(scope="module")
def client(cluster: Cluster, slack: FakeSlack, http_servers) -> Iterator[MCPClient]:
    kube = ["openshift", "--kubeconfig", str(cluster.kubeconfig)]
    slack_env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    token_env = {"PIPEKIT_MCP_TOKEN": MCP_TOKEN}
    http = http_servers(*kube, "--transport", "http", env=token_env)
    sse = http_servers(*kube, "--transport", "sse")
    ro_http = http_servers(*kube, "--transport", "http", "--read-only")
    slack_http = http_servers("slack", "--transport", "http", env=slack_env)
    os.environ["PIPEKIT_TEST_MCP_TOKEN"] = MCP_TOKEN  # expanded from ${…} in the header
    specs = parse_servers(
        [
            openshift_stdio(cluster, "k8s_stdio", prefix="stdio_"),
            {
                "name": "k8s_http",
                "url": http.url,
                "prefix": "http_",
                "headers": {"Authorization": "Bearer ${PIPEKIT_TEST_MCP_TOKEN}"},
            },
            {"name": "k8s_noauth", "url": http.url, "timeout_s": 5},
            {"name": "k8s_sse", "url": sse.url, "prefix": "sse_"},
            {"name": "k8s_ro", "url": ro_http.url, "prefix": "ro_"},
            openshift_stdio(cluster, "k8s_ro_stdio", "--read-only", prefix="rostdio_"),
            slack_stdio(slack, "slack_stdio", prefix="stdio_"),
            {"name": "slack_http", "url": slack_http.url, "prefix": "http_"},
        ]
    )
    with MCPClient(specs) as mcp:
        yield mcp
    os.environ.pop("PIPEKIT_TEST_MCP_TOKEN", None)


def tools_of(client: MCPClient, server: str) -> dict[str, object]:
    prefix = {
        "k8s_stdio": "stdio_",
        "k8s_http": "http_",
        "k8s_sse": "sse_",
        "k8s_ro": "ro_",
        "k8s_ro_stdio": "rostdio_",
        "slack_stdio": "stdio_",
        "slack_http": "http_",
    }[server]
    return {t.name.removeprefix(prefix): t for t in client.tools() if t.origin == f"mcp:{server}"}


@pytest.mark.parametrize("server", ["k8s_stdio", "k8s_http", "k8s_sse"])
def test_openshift_tools_are_listed_with_write_flags(client, server):
    tools = tools_of(client, server)
    assert set(tools) == OPENSHIFT_READS | OPENSHIFT_WRITES
    assert {name for name, t in tools.items() if t.writes} == OPENSHIFT_WRITES


@pytest.mark.parametrize("server", ["slack_stdio", "slack_http"])
def test_slack_tools_are_listed_with_write_flags(client, server):
    tools = tools_of(client, server)
    assert set(tools) == SLACK_READS | SLACK_WRITES
    assert {name for name, t in tools.items() if t.writes} == SLACK_WRITES


@pytest.mark.parametrize("server", ["k8s_stdio", "k8s_http", "k8s_sse"])
def test_investigation_reads_work_over_every_transport(client, server):
    tools = tools_of(client, server)
    pods = tools["pods_list"].invoke({"namespace": "shop", "status": "CrashLoopBackOff"}).text
    assert "checkout-7d9f8c6b5-x7k2p" in pods
    log = (
        tools["pods_log"]
        .invoke({"namespace": "shop", "name": "checkout-7d9f8c6b5-x7k2p", "previous": True})
        .text
    )
    assert "KeyError: 'DATABASE_URL'" in log
    events = tools["events_list"].invoke({"namespace": "batch", "warnings_only": True}).text
    assert "FailedScheduling" in events


def test_writes_reach_the_cluster_over_http_and_stdio(client, cluster):
    http = tools_of(client, "k8s_http")
    assert http["deployment_scale"].run(namespace="web", name="nginx", replicas=3) == (
        "Scaled deployment web/nginx from 2 to 3 replicas."
    )
    assert cluster.fake.objects["deployments"][("web", "nginx")]["spec"]["replicas"] == 3
    stdio = tools_of(client, "k8s_stdio")
    assert stdio["deployment_restart"].run(namespace="web", name="nginx").startswith("Restarted")
    assert cluster.fake.patches[-1]["name"] == "nginx"


@pytest.mark.parametrize("server", ["slack_stdio", "slack_http"])
def test_slack_reads_and_posts_over_both_transports(client, slack, server):
    tools = tools_of(client, server)
    assert "KubePodCrashLooping" in tools["channel_history"].run(channel="#incidents")
    tools["post_message"].run(channel="#incidents", text=f"hello over {server}")
    assert slack.posted[-1]["text"] == f"hello over {server}"


@pytest.mark.parametrize("server", ["k8s_ro", "k8s_ro_stdio"])
def test_read_only_server_hides_and_refuses_writes(client, cluster, server):
    assert set(tools_of(client, server)) == OPENSHIFT_READS
    before = len(cluster.fake.patches)
    with pytest.raises(MCPToolError, match=r"deployment_scale changes things .* read-only"):
        client.call(
            server, "deployment_scale", {"namespace": "web", "name": "nginx", "replicas": 0}
        )
    assert len(cluster.fake.patches) == before


def test_huge_log_stays_within_the_output_budget(client, cluster):
    fake: FakeKubernetes = cluster.fake
    lines = [f"INFO request id={i} path=/api/orders status=200 " + "." * 150 for i in range(12_000)]
    fake.set_log("web", "nginx-6b7c8d9e0f-y3z4a", "nginx", [*lines, "last line"])
    text = tools_of(client, "k8s_http")["pods_log"].run(
        namespace="web", name="nginx-6b7c8d9e0f-y3z4a", tail_lines=10_000
    )
    assert len(text) <= Budget().max_chars + 300
    assert "earlier lines cut to fit the output budget" in text
    assert text.endswith("last line")


def test_api_errors_come_back_as_readable_tool_errors(client):
    with pytest.raises(MCPToolError) as error:
        client.call("k8s_stdio", "pods_list", {"namespace": "kube-system"})
    assert "forbidden" in str(error.value) and "(403)" in str(error.value)
    assert "Traceback" not in str(error.value)


def test_http_server_with_a_token_refuses_clients_without_it(client):
    assert client.status()["k8s_http"] == "connected"
    problem = client.status()["k8s_noauth"]
    assert problem.startswith("down:") and "401" in problem
