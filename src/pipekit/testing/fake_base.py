"""Shared machinery of the fake model servers: a real HTTP server on 127.0.0.1 in a thread.

Scripted replies are queued per test; every request is recorded so tests can assert what
the model received; switches make the server refuse connections, stall before answering,
or cut a stream after N chunks, which is how real model servers fail.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_TOKEN = re.compile(r"\s*\S+\s*|\s+")


@dataclass
class Reply:
    """One scripted model reply."""

    content: str = ""
    # [{"name": ..., "arguments": {...}}]; arguments given as a str are sent verbatim, which
    # is how a model's malformed JSON reaches an OpenAI-compatible client.
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    chunks: list[str] | None = None  # explicit stream pieces; default: word by word
    token_delay_s: float | None = None  # pace of this reply; default: the server's
    status: int = 200  # non-200 answers `error` with that status instead of streaming
    error: str = ""

    def pieces(self) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        return _TOKEN.findall(self.content) if self.content else []


class FakeModelServer:
    """Base of FakeOllama and FakeOpenAI. Use as a context manager or start()/stop()."""

    default_models: tuple[str, ...] = ("llama3.2:3b", "qwen2.5:7b", "nomic-embed-text")

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        models: list[str] | None | tuple = (),
        token_delay_s: float = 0.0,
        default_reply: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        # () means the defaults; None accepts any model name (handy for the CLI).
        self.models = list(self.default_models) if models == () else models
        self.token_delay_s = token_delay_s
        self.default_reply = default_reply
        self.requests: list[dict[str, Any]] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stall_s = 0.0
        self._die_after: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeModelServer:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._serve_forever, args=(ready,), name=type(self).__name__, daemon=True
        )
        self._thread.start()
        ready.wait(10)
        self._call(self._open())
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self._call(self._close())
        self._call(self._cancel_pending())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop = None

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- scripting and failure switches -----------------------------------------------------

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def refuse(self) -> None:
        """Close the port: clients get 'connection refused' until accept()."""
        self._call(self._close())

    def accept(self) -> None:
        self._call(self._open())

    def stall(self, seconds: float) -> None:
        """Wait this long before sending response headers (until reset())."""
        self._stall_s = seconds

    def die_after(self, chunks: int) -> None:
        """Abort the TCP connection after this many streamed chunks (until reset())."""
        self._die_after = chunks

    def reset(self) -> None:
        with self._lock:
            self._replies.clear()
            self.requests.clear()
        self._stall_s = 0.0
        self._die_after = None

    # --- for subclasses ---------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def model_known(self, name: str) -> bool:
        """As Ollama does, `name` and `name:latest` are the same model."""
        if self.models is None:
            return True
        bare = name.removesuffix(":latest")
        return bare in self.models or f"{bare}:latest" in self.models

    async def record(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_raw": raw.decode(errors="replace")}
        with self._lock:
            self.requests.append(
                {"path": request.path, "body": body, "headers": dict(request.headers)}
            )
        if self._stall_s:
            await asyncio.sleep(self._stall_s)
        return body

    def next_reply(self, messages: list[dict]) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        if self.default_reply is not None:
            return Reply(content=self.default_reply)
        return Reply(content=f"You said: {_last_user_text(messages)}")

    async def stream(
        self, request: web.Request, reply: Reply, frames: list[bytes], content_type: str
    ) -> web.StreamResponse:
        """Send frames at the reply's pace; honour die_after by aborting the connection."""
        response = web.StreamResponse(headers={"Content-Type": content_type})
        await response.prepare(request)
        delay = self.token_delay_s if reply.token_delay_s is None else reply.token_delay_s
        next_at = time.monotonic()
        for index, frame in enumerate(frames):
            if self._die_after is not None and index >= self._die_after:
                request.transport.abort()
                return response
            if delay and index:
                next_at += delay
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await response.write(frame)
        await response.write_eof()
        return response

    # --- internals --------------------------------------------------------------------------

    def _serve_forever(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(ready.set)
        self._loop.run_forever()

    def _call(self, coroutine) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(15)

    async def _open(self) -> None:
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def _cancel_pending(self) -> None:
        """Stalled handlers may still sleep: end them so the loop stops cleanly."""
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _last_user_text(messages: list[dict]) -> str:
    for message in reversed(messages or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def embed_texts(texts: list[str]) -> list[list[float]]:
    """Real embeddings from pipekit's offline embedder, so similarity means something."""
    from pipekit.rag.embedding import get_local_embedder

    return get_local_embedder().embed(texts)
