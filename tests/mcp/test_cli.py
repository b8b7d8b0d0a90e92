"""`pipekit mcp …`: subcommands, and clear exits when credentials are missing."""

from __future__ import annotations

import json

from pipekit.cli import build_parser, main
from pipekit.testing.server import free_port


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
