"""The one HTTP server under every fake: a real server on 127.0.0.1, in a thread.

Each fake is a real server, so the product code under test talks HTTP exactly as it does in
production. It is aiohttp on its own event loop in a daemon thread, so a model server can
stream 64 paced answers at once without a thread each. Every request is recorded; `stall()`
holds every answer back (to trip client timeouts) and `refuse()` closes the port.

A fake answers in one of two ways: a plain service implements `handle(request) -> Response`;
a streaming one (the model servers) gives its own aiohttp `routes()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, NamedTuple, Self, TypedDict
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import CIMultiDict

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Typed request storage arrived in aiohttp 3.13; a plain key still works before it.
_RECORD: Any = web.RequestKey("pipekit_record", dict) if hasattr(web, "RequestKey") else "record"


class Request(TypedDict):
    """One request as a fake received it; `fake.requests` lists them, oldest first."""

    method: str
    path: str  # as sent, still percent-encoded, without the query
    query: dict[str, str]
    headers: CIMultiDict[str]  # any case: ["authorization"] and ["Authorization"] both work
    body: Any  # JSON as objects, a form as a dict, other text as str; None when empty


class Response(NamedTuple):
    """What `handle` answers: a status, headers and the whole body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def json(
        cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        body = json.dumps(payload).encode()
        return cls(status, {"Content-Type": "application/json", **(headers or {})}, body)


class HTTPFake:
    """A fake service on 127.0.0.1. Use as a context manager, or start()/stop()."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port  # 0: a free one, known once started
        self.requests: list[Request] = []
        self._lock = threading.RLock()
        self._stall_s = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        if self._loop is not None:
            return self
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._serve_forever, args=(ready,), name=type(self).__name__, daemon=True
        )
        self._thread.start()
        ready.wait(10)
        try:
            self._call(self._open())
        except BaseException:
            self.stop()
            raise
        log.debug("%s listening on %s", type(self).__name__, self.url)
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            self._call(self._shutdown())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        if not thread.is_alive():
            loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- what a test switches and reads -----------------------------------------------------

    def stall(self, seconds: float) -> None:
        """Hold every answer back this long, as a slow or hung service does (0: answer)."""
        self._stall_s = seconds

    def refuse(self) -> None:
        """Close the port: clients get 'connection refused' until accept()."""
        self._call(self._close())

    def accept(self) -> None:
        """Listen again, on the same port."""
        self._call(self._open())

    def reset(self) -> None:
        """No records, no stall, listening."""
        with self._lock:
            self.requests.clear()
        self._stall_s = 0.0
        self.accept()

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r["path"] == path]

    def bodies(self, path: str | None = None) -> list[Any]:
        """The bodies received so far (on `path` only, when given), oldest first."""
        with self._lock:
            return [r["body"] for r in self.requests if path is None or r["path"] == path]

    # --- for subclasses ---------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """The answer to one request (called on the server's thread)."""
        return Response(404, {"Content-Type": "text/plain"}, b"404: Not Found")

    def routes(self) -> list[web.RouteDef]:
        """aiohttp routes; by default every method and path goes to `handle`."""
        return [web.route("*", "/{path:.*}", self._answer)]

    def authorize(self, request: web.Request) -> web.StreamResponse | None:
        """An answer that refuses the request before any route sees it, else None."""
        return None

    @staticmethod
    def recorded(request: web.Request) -> Request:
        """The record of an aiohttp request, with its parsed body."""
        return request[_RECORD]

    # --- internals --------------------------------------------------------------------------

    async def _answer(self, request: web.Request) -> web.Response:
        try:
            status, headers, body = self.handle(self.recorded(request))
        except Exception:  # a bug in a fake must show up as a 500, not a hang
            log.exception("fake %s failed", type(self).__name__)
            status, headers, body = 500, {"Content-Type": "text/plain"}, b"fake failed"
        return web.Response(status=status, headers=headers, body=body)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        record = Request(
            method=request.method,
            path=request.rel_url.raw_path,
            query=dict(request.query),
            headers=CIMultiDict(request.headers),
            body=_parsed(await request.read(), request.content_type),
        )
        request[_RECORD] = record
        with self._lock:
            self.requests.append(record)
        if self._stall_s:
            await asyncio.sleep(self._stall_s)
        refused = self.authorize(request)
        return refused if refused is not None else await handler(request)

    def _serve_forever(self, ready: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(ready.set)
        self._loop.run_forever()

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        if self._loop is None:
            coroutine.close()
            raise RuntimeError(f"{type(self).__name__} is not started")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(15)

    async def _open(self) -> None:
        if self._runner is not None:
            return
        # Big enough for a small model's blob (SmolLM2-135M is 94 MB) uploaded to FakeOllama.
        app = web.Application(client_max_size=1024**3, middlewares=[self._middleware])
        app.add_routes(self.routes())
        # handler_cancellation: a client that hangs up stops its stream, as Ollama stops
        # generating; shutdown_timeout: refuse() must not wait for slow streams.
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=0.5, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _shutdown(self) -> None:
        await self._close()
        # Stalled or paced handlers may still sleep: end them so the loop stops cleanly.
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.get_running_loop().shutdown_default_executor()


def _parsed(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True))
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
