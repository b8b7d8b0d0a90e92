"""`pipekit mcp …`: subcommands, and clear exits when credentials are missing."""

from __future__ import annotations

import json
import os
import subprocess

import httpx
import pytest

from pipekit.cli import build_parser, main
from pipekit.testing.server import PIPEKIT, free_port
from tests.mcp.conftest import start_http_server

SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": "http://127.0.0.1:9/api/"}


def test_mcp_subcommands_are_registered():
    parser = build_parser(["mcp"])
    args = parser.parse_args(
        ["mcp", "openshift", "--transport", "http", "--port", "9000", "--read-only"]
    )
    assert (args.transport, args.port, args.read_only, args.host) == (
        "http",
        9000,
        True,
        "127.0.0.1",
    )
    args = parser.parse_args(["mcp", "slack", "--api-url", "http://127.0.0.1:1/api/"])
    assert args.port == 8812 and callable(args.handler)


def test_slack_without_a_token_exits_with_a_message(monkeypatch, capsys):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert main(["mcp", "slack"]) == 2
    assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err


def test_openshift_without_credentials_exits_with_a_message(tmp_path, capsys):
    assert main(["mcp", "openshift", "--kubeconfig", str(tmp_path / "missing")]) == 2
    assert "No Kubernetes credentials" in capsys.readouterr().err


def test_check_lists_problems(capsys):
    config = json.dumps(
        [{"name": "down", "url": f"http://127.0.0.1:{free_port()}/mcp", "timeout_s": 5}]
    )
    assert main(["mcp", "check", config]) == 1
    assert "PROBLEM MCP server down" in capsys.readouterr().err


def run_slack_on_all_interfaces(token: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PIPEKIT_MCP_TOKEN"} | SLACK_ENV
    if token is not None:
        env["PIPEKIT_MCP_TOKEN"] = token
    command = ["mcp", "slack", "--transport", "http", "--host", "0.0.0.0"]
    return subprocess.run(
        [*PIPEKIT, *command, "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        (None, "without PIPEKIT_MCP_TOKEN"),
        ("short-token", "with a PIPEKIT_MCP_TOKEN of 11 characters"),
    ],
)
def test_http_server_on_all_interfaces_refuses_to_start_without_a_real_token(token, problem):
    result = run_slack_on_all_interfaces(token)
    assert result.returncode == 2
    assert f"Refusing to listen on 0.0.0.0 {problem}" in result.stderr
    assert "at least 16 characters" in result.stderr


def test_http_server_on_all_interfaces_starts_with_a_token(tmp_path):
    token = "a-token-of-24-characters"
    server = start_http_server(
        ["slack", "--transport", "http", "--host", "0.0.0.0"],
        tmp_path / "slack.log",
        env=SLACK_ENV | {"PIPEKIT_MCP_TOKEN": token},
    )
    try:
        assert httpx.post(server.url, json={}).status_code == 401
    finally:
        server.stop()
