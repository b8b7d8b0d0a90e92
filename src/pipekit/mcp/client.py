"""MCP client: the tools of MCP servers as pipekit `Tool`s, callable from plain threads.

The agent loop runs in the pipelines server's worker threads and calls `Tool.run(**args)`
synchronously. MCP sessions are async and long-lived, so one `MCPClient` owns an event loop
in a background thread; every session is opened, held and closed by its own task there, and
calls cross over with `run_coroutine_threadsafe`, each bounded by the server's timeout.

Servers come from a valve-friendly spec (JSON or YAML): a list of
`{name, command|url, args, env, headers, timeout_s, read_only, ...}`, or Claude Desktop's
`{"mcpServers": {...}}`. A server that is down, slow or broken becomes a line in `problems`;
the others still work, and a down server is retried (at most every `retry_after_s`).

Which tools write: a tool whose annotations say `readOnlyHint: true` reads; every other tool
writes (the MCP default for a missing hint is "may write"), so the agent asks for approval.
Per server, `reads`/`writes` name patterns override the annotations — for servers that do
not annotate, or that you do not trust to. `read_only: true` drops a server's write tools.
"""

from __future__ import annotations

import asyncio
import fnmatch
import functools
import json
import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from mcp import Client, StdioServerParameters
from mcp import types as mcp_types
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import CONNECTION_CLOSED
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipekit.tools import Tool

from .budget import Budget, fit

log = logging.getLogger(__name__)

_NAME = re.compile(r"[^A-Za-z0-9_-]")
_ENV_REF = re.compile(r"\$\{(\w+)\}")
# The MCP SDK starts stdio servers with a minimal environment (PATH, HOME, …), which would drop
# the kubeconfig and the Slack token: pipekit's own servers get theirs passed on, each only its
# own, so the cluster server never sees the Slack token.
_OWN_SERVER_ENV = {
    "openshift": ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"),
    "slack": ("SLACK_BOT_TOKEN", "SLACK_API_URL"),
}


class MCPUnavailable(RuntimeError):
    """The server is not connected (down, never reached, or its connection broke)."""


class MCPToolError(RuntimeError):
    """The server ran the tool, or refused it, and reported an error."""


class MCPTimeout(TimeoutError):
    """The server did not answer within the timeout."""


class ServerSpec(BaseModel):
    """One MCP server, as configured in a valve."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=r"^[A-Za-z0-9_.-]{1,40}$", description="Short name, shown in tool origins."
    )
    command: str | None = Field(None, description="Executable to start (stdio transport).")
    args: list[str] = Field(default_factory=list, description="Arguments for `command`.")
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment; ${VAR} is expanded."
    )
    cwd: str | None = None
    url: str | None = Field(None, description="Streamable HTTP (…/mcp) or SSE (…/sse) endpoint.")
    transport: Literal["auto", "stdio", "http", "sse"] = Field(
        "auto", description="auto: stdio for a command, sse for a URL ending in /sse, else http."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="HTTP headers; ${VAR} is expanded."
    )
    timeout_s: float = Field(
        30.0, gt=0, le=600, description="Connect-and-list limit, and per call."
    )
    read_only: bool = Field(False, description="Drop (and refuse) this server's write tools.")
    prefix: str = Field("", description="Prepended to tool names, e.g. 'k8s_'.")
    tools: list[str] = Field(
        default_factory=list, description="Only tools matching these patterns."
    )
    exclude: list[str] = Field(
        default_factory=list, description="Drop tools matching these patterns."
    )
    writes: list[str] = Field(
        default_factory=list, description="Treat these tool patterns as writes."
    )
    reads: list[str] = Field(
        default_factory=list, description="Treat these tool patterns as reads."
    )
    max_result_chars: int = Field(16_000, ge=500, description="Longer results are clipped.")
    protocol: Literal["legacy", "auto"] = Field(
        "legacy",
        description="legacy: the initialize handshake every MCP server speaks; auto: probe for "
        "the 2026 protocol first.",
    )

    @model_validator(mode="after")
    def _one_target(self) -> ServerSpec:
        if bool(self.command) == bool(self.url):
            raise ValueError(f"server {self.name!r}: give exactly one of command or url")
        if self.transport == "auto":
            if self.command:
                self.transport = "stdio"
            else:
                self.transport = "sse" if self.url.rstrip("/").endswith("/sse") else "http"
        if (self.transport == "stdio") != bool(self.command):
            raise ValueError(f"server {self.name!r}: stdio needs a command, http/sse a url")
        return self

    @property
    def where(self) -> str:
        """Where it runs, for messages: never headers or env (they carry secrets)."""
        if self.command:
            return " ".join([self.command, *self.args])[:120]
        return re.sub(r"//[^/@]*@", "//", self.url or "")  # drop user:password@


def parse_servers(config: str | list[Any] | dict[str, Any] | None) -> list[ServerSpec]:
    """Server specs from a valve: JSON/YAML text or data; `{servers}` and `{mcpServers}` too."""
    if config is None or (isinstance(config, str) and not config.strip()):
        return []
    data: Any = config
    if isinstance(config, str):
        try:
            data = json.loads(config)
        except ValueError:
            import yaml

            try:
                data = yaml.safe_load(config)
            except yaml.YAMLError as error:
                raise ValueError(f"MCP server config is neither JSON nor YAML: {error}") from None
    if isinstance(data, dict) and "mcpServers" in data:  # Claude Desktop / Cursor format
        data = [
            {"name": name, **_claude_entry(entry)} for name, entry in data["mcpServers"].items()
        ]
    elif isinstance(data, dict) and "servers" in data:
        data = data["servers"]
    elif isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ValueError("MCP server config must be a list of servers")
    try:
        specs = [ServerSpec.model_validate(entry) for entry in data]
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'server'}: {e['msg']}" for e in error.errors()
        )
        raise ValueError(f"MCP server config is invalid: {problems}") from None
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"MCP server names must be unique: {names}")
    return specs


def _claude_entry(entry: dict[str, Any]) -> dict[str, Any]:
    entry = dict(entry)
    if "serverUrl" in entry:
        entry["url"] = entry.pop("serverUrl")
    kind = entry.pop("type", None)
    if kind in ("sse", "http", "stdio"):
        entry["transport"] = kind
    elif kind == "streamable-http":
        entry["transport"] = "http"
    return entry


@dataclass
class _Connection:
    spec: ServerSpec
    session: Client | None = None
    remote_tools: list[mcp_types.Tool] = field(default_factory=list)
    problem: str | None = None
    task: asyncio.Task | None = None
    stop: asyncio.Event | None = None
    last_attempt: float = -1e9
    stderr: IO[str] | None = None
    connecting: asyncio.Task | None = None


class MCPClient:
    """Connections to several MCP servers, their tools as `Tool`s. Thread-safe; close() it."""

    def __init__(self, servers: Sequence[ServerSpec], *, retry_after_s: float = 30.0) -> None:
        self.retry_after_s = retry_after_s
        self._connections = {spec.name: _Connection(spec) for spec in servers}
        self._config_problems: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._tool_cache: tuple[tuple, list[Tool]] | None = None

    @classmethod
    def from_config(cls, config: str | list | dict | None, **options: Any) -> MCPClient:
        """From valve text; a config error becomes a problem instead of an exception."""
        try:
            specs = parse_servers(config)
        except ValueError as error:
            client = cls([], **options)
            client._config_problems.append(str(error))
            return client
        return cls(specs, **options)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> MCPClient:
        """Connect to every server at once; returns when each is connected or has failed."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="pipekit-mcp", daemon=True
                )
                self._thread.start()
        longest = max((c.spec.timeout_s for c in self._connections.values()), default=1.0)
        self._run(self._connect_all(), longest + 15)
        return self

    def close(self) -> None:
        """Close every session (stdio servers are stopped) and the background loop."""
        loop = self._loop
        if loop is None:
            return
        with suppress(Exception):
            self._run(self._close_all(), 30)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        loop.close()
        self._loop = None
        for connection in self._connections.values():
            if connection.stderr is not None:
                connection.stderr.close()
                connection.stderr = None

    def __enter__(self) -> MCPClient:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- what the pipe uses ---------------------------------------------------------------

    @property
    def problems(self) -> list[str]:
        """One line per server that is down, slow or misconfigured, for the chat."""
        return self._config_problems + [
            f"MCP server {c.spec.name} ({c.spec.where}): {c.problem}"
            for c in self._connections.values()
            if c.problem
        ]

    def status(self) -> dict[str, str]:
        return {
            name: "connected" if c.session is not None else f"down: {c.problem or 'not started'}"
            for name, c in self._connections.items()
        }

    def tools(self) -> list[Tool]:
        """The tools of every connected server; down servers are retried in the background."""
        if self._loop is not None:
            with suppress(RuntimeError):  # closed meanwhile
                self._loop.call_soon_threadsafe(self._retry_down)
        key = tuple(
            (name, id(c.session), len(c.remote_tools)) for name, c in self._connections.items()
        )
        with self._lock:
            if self._tool_cache is None or self._tool_cache[0] != key:
                self._tool_cache = (key, self._build_tools())
            return list(self._tool_cache[1])

    def call(
        self, server: str, tool: str, arguments: dict[str, Any], timeout_s: float | None = None
    ) -> str:
        """Call one tool and return its text; raises MCPToolError/MCPUnavailable/MCPTimeout."""
        if self._loop is None:
            raise MCPUnavailable("the MCP client is not started")
        if threading.current_thread() is self._thread:
            raise RuntimeError("MCPClient.call blocks; from the client's own loop use acall")
        connection = self._connection(server)
        limit = timeout_s or connection.spec.timeout_s
        # Reconnecting may take its own timeout before the call's, hence twice, plus slack.
        return self._run(self._call(connection, tool, arguments, limit), 2 * limit + 10)

    async def acall(
        self, server: str, tool: str, arguments: dict[str, Any], timeout_s: float | None = None
    ) -> str:
        """`call` for async code running on another event loop (e.g. a filter's inlet)."""
        if self._loop is None:
            raise MCPUnavailable("the MCP client is not started")
        connection = self._connection(server)
        limit = timeout_s or connection.spec.timeout_s
        future = asyncio.run_coroutine_threadsafe(
            self._call(connection, tool, arguments, limit), self._loop
        )
        return await asyncio.wrap_future(future)

    # --- tools ----------------------------------------------------------------------------

    def _build_tools(self) -> list[Tool]:
        tools: list[Tool] = []
        taken: set[str] = set()
        for connection in self._connections.values():
            if connection.session is None:
                continue
            spec = connection.spec
            for remote in connection.remote_tools:
                if not self._wanted(spec, remote.name):
                    continue
                writes = _is_write(spec, remote)
                if writes and spec.read_only:
                    continue
                name = _tool_name(spec.prefix + remote.name, spec.name, taken)
                tools.append(
                    Tool(
                        name=name,
                        description=_description(remote),
                        parameters=_parameters(remote.input_schema),
                        run=functools.partial(self._run_tool, spec.name, remote.name),
                        writes=writes,
                        server=spec.name,
                        remote_name=remote.name,
                        progress=f"Asking {spec.name}: {remote.name}",
                    )
                )
        return tools

    @staticmethod
    def _wanted(spec: ServerSpec, name: str) -> bool:
        if spec.tools and not _matches(name, spec.tools):
            return False
        return not _matches(name, spec.exclude)

    def _run_tool(self, server: str, tool: str, /, **arguments: Any) -> str:
        return self.call(server, tool, arguments)

    # --- on the loop ----------------------------------------------------------------------

    def _run(self, coroutine: Any, timeout: float) -> Any:
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            if future.done():  # the coroutine's own MCPTimeout, not this wait's
                raise
            future.cancel()
            raise MCPTimeout(f"no answer within {timeout:.0f} s") from None

    def _connection(self, server: str) -> _Connection:
        try:
            return self._connections[server]
        except KeyError:
            raise MCPUnavailable(f"no MCP server named {server!r} is configured") from None

    async def _connect_all(self) -> None:
        await asyncio.gather(*(self._reconnect(c) for c in self._connections.values()))

    async def _close_all(self) -> None:
        for connection in self._connections.values():
            if connection.connecting is not None and not connection.connecting.done():
                connection.connecting.cancel()
        await asyncio.gather(
            *(self._disconnect(c) for c in self._connections.values()), return_exceptions=True
        )

    def _retry_down(self) -> None:
        for connection in self._connections.values():
            if self._may_retry(connection):
                self._reconnect(connection)

    def _may_retry(self, connection: _Connection) -> bool:
        in_flight = connection.connecting is not None and not connection.connecting.done()
        due = time.monotonic() - connection.last_attempt >= self.retry_after_s
        return connection.session is None and (in_flight or due)

    def _reconnect(self, connection: _Connection) -> asyncio.Future[None]:
        """The connection attempt under way, or a new one: never two at once."""
        if connection.connecting is None or connection.connecting.done():
            connection.connecting = asyncio.ensure_future(self._connect(connection))
        return asyncio.shield(connection.connecting)

    async def _connect(self, connection: _Connection) -> None:
        spec = connection.spec
        await self._disconnect(connection)
        connection.last_attempt = time.monotonic()
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        connection.stop = asyncio.Event()
        connection.task = asyncio.ensure_future(self._hold(connection, ready))
        try:
            await asyncio.wait_for(asyncio.shield(ready), spec.timeout_s)
        except TimeoutError:
            connection.task.cancel()
            with suppress(BaseException):
                await asyncio.wait_for(connection.task, 10)
            connection.problem = f"no answer within {spec.timeout_s:g} s while connecting"
            log.warning("MCP server %s (%s): %s", spec.name, spec.where, connection.problem)
        if connection.problem is None:
            log.info("MCP server %s: %d tools", spec.name, len(connection.remote_tools))

    async def _hold(self, connection: _Connection, ready: asyncio.Future[None]) -> None:
        """Open the session, publish it, keep it open until asked to stop: all in one task."""
        spec = connection.spec
        try:
            async with AsyncExitStack() as stack:
                session = await stack.enter_async_context(self._open(connection, stack))
                connection.remote_tools = await _list_tools(session)
                connection.session, connection.problem = session, None
                ready.set_result(None)
                await connection.stop.wait()
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # noqa: BLE001 — ExceptionGroups from anyio included
            connection.problem = _describe(error, spec) + _stderr_tail(connection)
            log.warning("MCP server %s (%s): %s", spec.name, spec.where, connection.problem)
        finally:
            connection.session = None
            if not ready.done():
                ready.set_result(None)

    def _open(self, connection: _Connection, stack: AsyncExitStack) -> Client:
        spec = connection.spec
        headers = {k: _expand(v) for k, v in spec.headers.items()}
        if spec.transport == "stdio":
            # A real file (the child needs a descriptor), read back by name when it fails;
            # a fresh one per connection so a chatty server cannot grow it forever.
            if connection.stderr is not None:
                connection.stderr.close()
            connection.stderr = tempfile.NamedTemporaryFile(
                "w", prefix=f"mcp-{spec.name}-", suffix=".log", encoding="utf-8"
            )
            transport = stdio_client(stdio_parameters(spec), errlog=connection.stderr)
        elif spec.transport == "sse":
            transport = sse_client(spec.url, headers=headers or None, timeout=spec.timeout_s)
        else:
            import httpx2

            # Long read timeout: the server may hold the response stream open between events.
            http = httpx2.AsyncClient(
                headers=headers, timeout=httpx2.Timeout(spec.timeout_s, read=300)
            )
            stack.push_async_callback(http.aclose)
            transport = streamable_http_client(spec.url, http_client=http)
        return Client(transport, mode=spec.protocol, cache=None)

    async def _disconnect(self, connection: _Connection) -> None:
        task, connection.task = connection.task, None
        if task is None or task.done():
            return
        connection.stop.set()
        try:
            await asyncio.wait_for(task, 10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()

    async def _call(
        self, connection: _Connection, tool: str, arguments: dict[str, Any], timeout_s: float
    ) -> str:
        spec = connection.spec
        if self._may_retry(connection):
            await self._reconnect(connection)
        session = connection.session
        if session is None:
            raise MCPUnavailable(
                f"MCP server {spec.name} is not connected: {connection.problem or 'not started'}"
            )
        if spec.read_only and any(
            t.name == tool and _is_write(spec, t) for t in connection.remote_tools
        ):
            raise MCPToolError(
                f"Refused: {tool} changes things and server {spec.name} is read-only."
            )
        try:
            result = await asyncio.wait_for(session.call_tool(tool, arguments), timeout_s)
        except TimeoutError:
            raise MCPTimeout(f"{spec.name}/{tool} did not answer within {timeout_s:g} s") from None
        except MCPError as error:
            if error.code == CONNECTION_CLOSED:
                await self._mark_down(connection, f"connection closed: {error}")
                raise MCPUnavailable(f"MCP server {spec.name} closed the connection") from None
            raise MCPToolError(f"{spec.name}/{tool}: {error}") from None
        except Exception as error:  # transport failures: the server went away mid-session
            await self._mark_down(connection, _describe(error, spec))
            raise MCPUnavailable(f"MCP server {spec.name} failed: {connection.problem}") from None
        text = fit(_result_text(result), Budget(max_chars=spec.max_result_chars, max_lines=5000))
        if result.is_error:
            raise MCPToolError(text or f"{tool} failed without a message")
        return text

    async def _mark_down(self, connection: _Connection, problem: str) -> None:
        connection.problem = problem + _stderr_tail(connection)
        log.warning("MCP server %s: %s", connection.spec.name, connection.problem)
        await self._disconnect(connection)
        connection.session = None


async def _list_tools(session: Client) -> list[mcp_types.Tool]:
    tools: list[mcp_types.Tool] = []
    cursor = None
    for _ in range(50):  # a server that pages forever must not hang the connect
        page = await session.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def _is_write(spec: ServerSpec, tool: mcp_types.Tool) -> bool:
    if _matches(tool.name, spec.writes):
        return True
    if _matches(tool.name, spec.reads):
        return False
    annotations = tool.annotations
    return not (annotations is not None and annotations.read_only_hint is True)


def _matches(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _tool_name(wanted: str, server: str, taken: set[str]) -> str:
    """Names the model APIs accept (^[A-Za-z0-9_-]{1,64}$), unique across servers."""
    name = _NAME.sub("_", wanted)[:64]
    if name in taken:
        name = _NAME.sub("_", f"{server}_{wanted}")[:64]
        suffix = 2
        while name in taken:
            name = f"{name[:60]}_{suffix}"
            suffix += 1
    taken.add(name)
    return name


def _description(tool: mcp_types.Tool) -> str:
    text = " ".join((tool.description or tool.title or tool.name).split())
    return text[:1000]


def _parameters(schema: dict[str, Any] | None) -> dict[str, Any]:
    schema = {k: v for k, v in (schema or {}).items() if k not in ("$schema", "title")}
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    return schema


def _result_text(result: mcp_types.CallToolResult) -> str:
    parts: list[str] = []
    for item in result.content or []:
        if isinstance(item, mcp_types.TextContent):
            parts.append(item.text)
        elif isinstance(item, mcp_types.EmbeddedResource):
            resource = item.resource
            parts.append(getattr(resource, "text", None) or f"[resource {resource.uri}]")
        elif isinstance(item, mcp_types.ResourceLink):
            parts.append(f"[link {item.uri}]")
        else:
            parts.append(f"[{item.type} content: {getattr(item, 'mime_type', '')}]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False, default=str))
    return "\n".join(parts)


def stdio_parameters(spec: ServerSpec) -> StdioServerParameters:
    """How a stdio server starts. `command: pipekit` runs pipekit's own servers with this
    Python, and passes each one its own credentials from the environment."""
    command, args = spec.command, spec.args
    env = {k: _expand(v) for k, v in spec.env.items()}
    if command == "pipekit":
        command, args = sys.executable, ["-m", "pipekit.cli", *spec.args]
        own = spec.args[1] if len(spec.args) > 1 and spec.args[0] == "mcp" else ""
        passed = {k: os.environ[k] for k in _OWN_SERVER_ENV.get(own, ()) if os.environ.get(k)}
        env = passed | env
    return StdioServerParameters(command=command, args=args, env=env or None, cwd=spec.cwd)


def _expand(value: str) -> str:
    """${VAR} from the pipelines server's environment: secrets stay out of the valve text."""
    return _ENV_REF.sub(lambda m: os.environ.get(m.group(1), ""), value)


def _leaf(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _describe(error: BaseException, spec: ServerSpec) -> str:
    error = _leaf(error)
    if isinstance(error, FileNotFoundError) and spec.command:
        return f"cannot start {spec.command!r}: no such program"
    name = type(error).__name__
    text = str(error).strip()
    if name in ("ConnectError", "ConnectTimeout"):
        return f"not reachable: {text or name}"
    if name == "HTTPStatusError":
        return f"HTTP error: {text.splitlines()[0] if text else name}"
    if isinstance(error, MCPError):
        return f"protocol error: {text}"
    return f"{name}: {text}" if text else name


def _stderr_tail(connection: _Connection) -> str:
    """The server's last stderr lines: why a stdio server would not start."""
    stream = connection.stderr
    if stream is None:
        return ""
    try:
        # A second handle: seeking the child's own would move where it writes.
        with open(stream.name, encoding="utf-8", errors="replace") as reader:
            lines = [line for line in reader.read().splitlines() if line.strip()][-3:]
    except OSError:
        return ""
    return f" (stderr: {' | '.join(lines)[-400:]})" if lines else ""
