"""The default `mcp_servers` valve: pipekit's own servers, started with this Python, each
given only its own credentials from the pipelines server's environment."""

from __future__ import annotations

import sys

from pipekit.incident.pipe import DEFAULT_MCP_SERVERS, IncidentPipe
from pipekit.mcp.client import parse_servers, stdio_parameters
from pipekit.pipe.request import METADATA_KEY
from pipekit.testing.fake_ollama import Reply
from pipekit.testing.slack import TOKEN

from .conftest import call, tool_results


def test_pipekit_command_runs_this_python_with_only_its_own_secrets(monkeypatch):
    monkeypatch.setenv("KUBECONFIG", "/etc/kube/config")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret")
    monkeypatch.delenv("SLACK_API_URL", raising=False)
    openshift, slack = map(stdio_parameters, parse_servers(DEFAULT_MCP_SERVERS))
    assert openshift.command == sys.executable
    assert openshift.args == ["-m", "pipekit.cli", "mcp", "openshift"]
    assert openshift.env == {"KUBECONFIG": "/etc/kube/config"}
    assert slack.env == {"SLACK_BOT_TOKEN": "xoxb-secret"}


def test_invalid_config_becomes_a_status_line_not_a_crash(tmp_path, model):
    pipe = IncidentPipe(data_dir=tmp_path)
    pipe.valves = pipe.Valves(
        mcp_servers="- name: x\n  url: [not, a, url]", ollama_base_url=model.url
    )
    model.script(Reply(content="Without tools."))
    items = list(_turn(pipe, "anything wrong in shop?"))
    statuses = [i["event"]["data"]["description"] for i in items if isinstance(i, dict)]
    assert any("MCP server config is invalid" in s for s in statuses)
    assert "Without tools." in "".join(i for i in items if isinstance(i, str))
    pipe.close()


def test_default_servers_reach_the_cluster_and_slack_from_the_environment(
    tmp_path, monkeypatch, model, cluster, slack
):
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_API_URL", slack.api_url)
    pipe = IncidentPipe(data_dir=tmp_path)
    pipe.valves = pipe.Valves(ollama_base_url=model.url, collections=[])
    model.script(
        call("pods_list", namespace="shop", status="unhealthy"),
        call("channels_list"),
        Reply(content="Both servers answered."),
    )
    try:
        text = "".join(i for i in _turn(pipe, "checkout in shop?") if isinstance(i, str))
    finally:
        pipe.close()
    pods, channels = tool_results(model)
    assert "CrashLoopBackOff" in pods
    assert "incidents" in channels
    assert text.startswith("Both servers answered.")


def _turn(pipe: IncidentPipe, text: str):
    body = {"stream": True, METADATA_KEY: {"chat_id": "c", "user_id": "u", "user": {"id": "u"}}}
    return pipe.pipe(text, "incident_agent", [{"role": "user", "content": text}], body)
