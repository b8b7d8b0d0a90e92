"""Prometheus metrics for chats and guard actions, defined once per process.

The metrics live here, not in a filter script, because the server may import a script more
than once (reloads, valve updates) and prometheus_client refuses to register a name twice.

Exported names (prometheus_client adds `_total`, `_bucket`, `_sum`, `_count`):

| name | type | labels |
|---|---|---|
| `pipekit_chat_requests_total` | counter | `model`, `user` |
| `pipekit_chat_latency_seconds` | histogram | `model` |
| `pipekit_chat_tokens_total` | counter | `model`, `user`, `direction` (prompt/completion), `source` (reported/estimated) |
| `pipekit_guard_actions_total` | counter | `filter`, `action` (blocked/flagged/masked/replaced/limited/fail_open) |
"""  # noqa: E501

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from fastapi import FastAPI, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.exposition import start_http_server

log = logging.getLogger(__name__)

REQUESTS = Counter(
    "pipekit_chat_requests", "Chat requests seen by the usage_metrics inlet.", ["model", "user"]
)
LATENCY = Histogram(
    "pipekit_chat_latency_seconds",
    "Seconds from the usage_metrics inlet to its outlet: the whole answer, as the user waits.",
    ["model"],
    buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300, 600),
)
TOKENS = Counter(
    "pipekit_chat_tokens",
    "Tokens per chat turn: as the model reported them, else estimated from the text.",
    ["model", "user", "direction", "source"],
)
GUARD_ACTIONS = Counter(
    "pipekit_guard_actions", "What the guard filters did to messages.", ["filter", "action"]
)


def record_guard_action(filter_name: str, action: str) -> None:
    GUARD_ACTIONS.labels(filter=filter_name, action=action).inc()


def estimate_tokens(text: str) -> int:
    """Rough: 4 ASCII characters a token, one token per other character (Hangul, CJK)."""
    if not text:
        return 0
    ascii_chars = sum(1 for char in text if char.isascii())
    return max(1, round(ascii_chars / 4 + (len(text) - ascii_chars)))


def reported_tokens(usage: object) -> tuple[int | None, int | None]:
    """(prompt, completion) from an Open WebUI message's `usage`: OpenAI or Ollama names."""
    if not isinstance(usage, dict):
        return None, None

    def first(*names: str) -> int | None:
        for name in names:
            value = usage.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                return int(value)
        return None

    return (
        first("prompt_tokens", "input_tokens", "prompt_eval_count"),
        first("completion_tokens", "output_tokens", "eval_count"),
    )


# --- inlet stamps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stamp:
    started: float  # time.monotonic()
    model: str
    user: str


# --- exposition --------------------------------------------------------------------------------

_exporter_lock = threading.Lock()
_exporter: tuple[str, int, object] | None = None  # (host, port, WSGIServer)


def serve_metrics(host: str, port: int) -> bool:
    """Serve /metrics on host:port with prometheus_client's own server, once per process.

    Called again with another address, it moves the server; port 0 stops it. Returns False
    (and logs why) when the port cannot be bound, e.g. another replica on the same host.
    """
    global _exporter
    with _exporter_lock:
        if _exporter and _exporter[:2] == (host, port):
            return True
        if _exporter:
            server = _exporter[2]
            server.shutdown()  # type: ignore[attr-defined]
            server.server_close()  # type: ignore[attr-defined]
            _exporter = None
        if not port:
            return True
        try:
            server, _thread = start_http_server(port, addr=host)
        except OSError as error:
            log.error(
                "Prometheus metrics not served on %s:%d: %s. Choose another metrics_port "
                "valve, or 0 to turn the port off.",
                host,
                port,
                error,
            )
            return False
        _exporter = (host, port, server)
        log.info("Prometheus metrics on http://%s:%d/metrics", host, port)
        return True


def render() -> tuple[bytes, str]:
    """The text exposition of every metric in this process, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def install_route(app: FastAPI, path: str = "/pipekit/metrics") -> None:
    """Add `GET path` to a FastAPI app (in pipekit serve it sits behind the bearer key)."""

    async def metrics() -> Response:
        body, content_type = render()
        return Response(body, media_type=content_type)

    # First in the table, ahead of upstream's `/{pipeline_id}/...` routes.
    app.router.routes.insert(0, APIRoute(path, metrics, methods=["GET"]))
