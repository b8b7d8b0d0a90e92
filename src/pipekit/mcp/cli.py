"""`pipekit mcp openshift|slack|check`: run pipekit's MCP servers, or test a client config."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from pipekit import settings

from .server import MIN_TOKEN_LENGTH, TRANSPORTS, TokenRefused, ToolServer, serve

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    mcp = subparsers.add_parser("mcp", help="Run pipekit's MCP servers (OpenShift, Slack).")
    servers = mcp.add_subparsers(dest="mcp_command", metavar="SERVER", required=True)

    openshift = _server(
        servers,
        "openshift",
        port=8811,
        handler=run_openshift,
        help="Kubernetes/OpenShift MCP server (kubeconfig or in-cluster service account).",
        description="Pods, logs, events, deployments, routes and helm releases; rollout "
        "restart and scale unless --read-only.",
    )
    openshift.add_argument(
        "--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)."
    )
    openshift.add_argument("--context", help="kubeconfig context (default: the current one).")
    openshift.add_argument(
        "--namespaces",
        default=settings.mcp_namespaces(),
        help="Comma-separated namespaces the tools may see; every other one is refused "
        "(default: $PIPEKIT_MCP_NAMESPACES; empty: all the credentials allow).",
    )
    slack = _server(
        servers,
        "slack",
        port=8812,
        handler=run_slack,
        help="Slack MCP server (token from SLACK_BOT_TOKEN).",
        description="Channels and history; post, reply and react unless --read-only. The bot "
        "token is read from SLACK_BOT_TOKEN only.",
    )
    slack.add_argument(
        "--api-url", help="Slack Web API base URL (default: $SLACK_API_URL or Slack's)."
    )

    check = servers.add_parser(
        "check",
        help="Connect to the MCP servers in a client config and list their tools and problems.",
    )
    check.add_argument("config", help="JSON/YAML server list, or @FILE to read it from a file.")
    check.set_defaults(handler=run_check)


def _server(
    servers: argparse._SubParsersAction,
    name: str,
    *,
    port: int,
    handler: Callable[[argparse.Namespace], int],
    **text: str,
) -> argparse.ArgumentParser:
    """A server subcommand with the options every pipekit MCP server takes."""
    parser = servers.add_parser(name, **text)
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="stdio",
        help="stdio (default), http (streamable HTTP at /mcp) or sse (at /sse).",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="HTTP/SSE bind address (default 127.0.0.1). Any other address needs PIPEKIT_MCP_TOKEN "
        f"({MIN_TOKEN_LENGTH}+ characters).",
    )
    parser.add_argument("--port", type=int, default=port, help=f"HTTP/SSE port (default {port}).")
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="Hide and refuse every tool that changes something.",
    )
    parser.set_defaults(handler=handler)
    return parser


def run_openshift(args: argparse.Namespace) -> int:
    from .openshift import ClusterConfigError, OpenShiftTools, api_client, build_server

    try:
        api = api_client(args.kubeconfig, args.context)
    except ClusterConfigError as error:
        print(f"pipekit mcp openshift: {error}", file=sys.stderr)
        return 2
    namespaces = frozenset(filter(None, (n.strip() for n in args.namespaces.split(","))))
    tools = OpenShiftTools(api, namespaces=namespaces or None)
    server = build_server(tools, read_only=args.read_only)
    log.info(
        "openshift MCP server for %s%s%s",
        api.configuration.host,
        " (read-only)" if args.read_only else "",
        f", namespaces {', '.join(sorted(namespaces))}" if namespaces else "",
    )
    return _serve("openshift", server, args)


def run_slack(args: argparse.Namespace) -> int:
    from .slack import SlackTools, build_server, web_client

    try:
        client = web_client(api_url=args.api_url)
    except RuntimeError as error:
        print(f"pipekit mcp slack: {error}", file=sys.stderr)
        return 2
    server = build_server(SlackTools(client), read_only=args.read_only)
    return _serve("slack", server, args)


def _serve(name: str, server: ToolServer, args: argparse.Namespace) -> int:
    try:
        return serve(server, args.transport, host=args.host, port=args.port)
    except TokenRefused as error:
        print(f"pipekit mcp {name}: {error}", file=sys.stderr)
        return 2


def run_check(args: argparse.Namespace) -> int:
    from .client import MCPClient, parse_servers

    logging.getLogger("httpx2").setLevel(logging.WARNING)  # one line per MCP request otherwise
    text = args.config
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    with MCPClient(parse_servers(text)) as client:
        for tool in client.tools():
            kind = "write" if tool.writes else "read "
            print(f"{tool.origin:<20} {kind} {tool.name}: {tool.description[:80]}")
        for problem in client.problems:
            print(f"PROBLEM {problem}", file=sys.stderr)
        return 1 if client.problems else 0
