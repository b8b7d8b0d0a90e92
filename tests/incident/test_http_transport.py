"""The same agent with both MCP servers over streamable HTTP instead of stdio."""

from __future__ import annotations

import pytest

from pipekit.testing.fake_ollama import Reply
from pipekit.testing.slack import TOKEN
from tests.mcp.conftest import start_http_server

from .conftest import call, code_in, say, set_valves, tool_results


@pytest.fixture(scope="module")
def http_urls(cluster, slack, tmp_path_factory):
    logs = tmp_path_factory.mktemp("mcp-http-logs")
    kubeconfig = ["--kubeconfig", str(cluster.kubeconfig)]
    started = [
        start_http_server(["openshift", "--transport", "http", *kubeconfig], logs / "os.log"),
        start_http_server(
            ["slack", "--transport", "http"],
            logs / "slack.log",
            env={"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url},
        ),
        start_http_server(
            ["openshift", "--transport", "http", "--read-only", *kubeconfig], logs / "ro.log"
        ),
    ]
    yield [server.url for server in started]
    for server in started:
        server.stop()


@pytest.fixture(autouse=True)
def _http(server, http_urls):
    openshift, slack, _ = http_urls
    set_valves(
        server,
        mcp_servers=[{"name": "openshift", "url": openshift}, {"name": "slack", "url": slack}],
        collections=[],
    )


def test_investigation_over_http_reads_the_crashed_log(server, model):
    model.script(
        call("pods_list", namespace="shop", status="unhealthy"),
        call("pods_log", namespace="shop", name="checkout-7d9f8c6b5-q9m4d", previous=True),
        Reply(content="DATABASE_URL is missing."),
    )
    turn = say(server, "checkout is down", chat="http-crash")
    pods, log = tool_results(model)
    assert "CrashLoopBackOff" in pods
    assert "DATABASE_URL is not set" in log
    assert turn.answer.startswith("DATABASE_URL is missing.")


def test_slack_post_over_http_waits_for_approval(server, model, slack):
    model.script(
        call("post_message", channel="#incidents", text="checkout down (http)"),
        Reply(content="Drafted."),
    )
    code = code_in(say(server, "tell the team", chat="http-post").answer)
    assert slack.posted == []
    assert "Approved" in say(server, f"approve {code}", chat="http-post").answer
    assert [p["text"] for p in slack.posted] == ["checkout down (http)"]


def test_read_only_http_server_refuses_an_approved_restart(server, model, cluster, http_urls):
    openshift, slack, read_only = http_urls
    model.script(
        call("deployment_restart", namespace="web", name="nginx"), Reply(content="Proposed.")
    )
    code = code_in(say(server, "restart nginx", chat="http-ro").answer)
    set_valves(
        server,
        mcp_servers=[{"name": "openshift", "url": read_only}, {"name": "slack", "url": slack}],
    )
    answer = say(server, f"approve {code}", chat="http-ro").answer
    assert "read-only" in answer
    assert cluster.fake.patches == []
