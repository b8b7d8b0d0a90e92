"""What pipekit's MCP servers share: read/write tool annotations, read-only mode, transports.

A write tool is registered with `WRITE` annotations (readOnlyHint false, destructiveHint true)
so any MCP client, pipekit's included, can gate it behind an approval. With `read_only=True`
write tools are not listed at all, and a client that calls one anyway gets a clear refusal
instead of "unknown tool".
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import Any, Literal

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from starlette.responses import JSONResponse

from pipekit import settings
from pipekit.auth import BearerKeyMiddleware

log = logging.getLogger(__name__)

Transport = Literal["stdio", "http", "sse"]
TRANSPORTS: tuple[str, ...] = ("stdio", "http", "sse")
# Beyond loopback a token is required, and one this short could be guessed.
MIN_TOKEN_LENGTH = 16

READ = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
WRITE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False
)


class TokenRefused(ValueError):
    """An HTTP/SSE server would listen beyond loopback without a usable token."""


class ToolServer(MCPServer):
    """An `MCPServer` whose write tools disappear, and are refused, in read-only mode."""

    def __init__(self, name: str, *, read_only: bool, instructions: str) -> None:
        super().__init__(name, instructions=instructions, log_level="WARNING")
        self.read_only = read_only
        self._refused: dict[str, str] = {}

    def read(self, function: Callable[..., Any]) -> None:
        self.add_tool(function, annotations=READ, structured_output=False)

    def write(self, function: Callable[..., Any], annotations: ToolAnnotations = WRITE) -> None:
        if self.read_only:
            self._refused[function.__name__] = (
                f"Refused: {function.__name__} changes things and the {self.name} MCP server runs "
                "read-only (--read-only). Ask an operator to do it, or run the server without "
                "--read-only behind an approval step."
            )
            return
        self.add_tool(function, annotations=annotations, structured_output=False)

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        if name in self._refused:
            raise ToolError(self._refused[name])
        return await super().call_tool(name, arguments, context)


def serve(
    server: MCPServer,
    transport: Transport = "stdio",
    *,
    host: str = "127.0.0.1",
    port: int = 8811,
) -> int:
    """Run until interrupted; HTTP serves `/mcp` (streamable HTTP), SSE serves `/sse`.

    Raises `TokenRefused` for HTTP/SSE on a non-loopback host without a long enough token.
    """
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        # The SDK logs every session and request at INFO; keep that for -v.
        logging.getLogger("mcp").setLevel(logging.WARNING)
    if transport == "stdio":
        # stdout carries the protocol: every log line must go to stderr (logging's default).
        anyio.run(server.run_stdio_async)
        return 0
    token = settings.mcp_token()
    check_token_for_host(host, token, server.name)
    import uvicorn

    if transport == "http":
        app = server.streamable_http_app(host=host)
        path = "/mcp"
    else:
        app = server.sse_app(host=host)
        path = "/sse"
    if token:
        app = _BearerAuth(app, token)
    log.info("%s MCP server on http://%s:%d%s (%s)", server.name, host, port, path, transport)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    try:
        anyio.run(uvicorn.Server(config).serve)
    except KeyboardInterrupt:
        pass
    return 0


def check_token_for_host(host: str, token: str, name: str = "MCP") -> None:
    """Refuse what `pipekit serve` refuses with the default key: an open server on the network."""
    if _is_loopback(host) or len(token) >= MIN_TOKEN_LENGTH:
        return
    problem = (
        f"with a PIPEKIT_MCP_TOKEN of {len(token)} characters"
        if token
        else "without PIPEKIT_MCP_TOKEN"
    )
    raise TokenRefused(
        f"Refusing to listen on {host} {problem}: anyone on the network could call the "
        f"{name} server's tools. Set PIPEKIT_MCP_TOKEN to a secret of at least {MIN_TOKEN_LENGTH} "
        "characters (e.g. `openssl rand -hex 24`) and send it from the clients, or listen on "
        "127.0.0.1."
    )


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class _BearerAuth(BearerKeyMiddleware):
    """The pipelines server's key check, refusing with a JSON-RPC error MCP clients display."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not self._authorised(scope):
            refusal = {
                "jsonrpc": "2.0",
                "id": None,
                "error": {"code": -32600, "message": "401 Unauthorized: missing or wrong token"},
            }
            response = JSONResponse(refusal, 401, headers={"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
