"""Build the served app: upstream's FastAPI app with pipekit's loader, auth and routes."""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from pipekit import settings
from pipekit.auth import BearerKeyMiddleware
from pipekit.guards import metrics as guard_metrics
from pipekit.stores.health import all_reachable, store_states

from . import pipeline_files, valves_routes
from . import upstream as upstream_server
from .body_limit import MB, BodySizeLimit
from .json_body import JsonBodyCheck
from .loader import PipelineLoader

log = logging.getLogger(__name__)

# Each streaming reply holds a worker thread while it waits for the model's next token;
# anyio's default of 40 would queue the 41st concurrent chat behind the others.
WORKER_THREADS = 256


@dataclass(frozen=True)
class ServerConfig:
    pipelines_dir: Path
    api_key: str
    worker_threads: int = WORKER_THREADS
    max_body_bytes: int = int(settings.DEFAULT_MAX_BODY_MB * MB)
    allow_remote_add: bool = False


def build_app(config: ServerConfig) -> FastAPI:
    """Import upstream with our settings and wrap it. Call once per process."""
    os.environ["PIPELINES_DIR"] = str(config.pipelines_dir)
    os.environ["PIPELINES_API_KEY"] = config.api_key
    upstream = upstream_server.import_main()

    loader = PipelineLoader(upstream, config.pipelines_dir)
    # Upstream's lifespan and reload() look these up as module globals at call time.
    upstream.on_startup = loader.load_all
    app: FastAPI = upstream.app
    app.state.pipekit_loader = loader

    upstream_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI):
        anyio.to_thread.current_default_thread_limiter().total_tokens = config.worker_threads
        async with upstream_lifespan(application) as state:
            yield state

    app.router.lifespan_context = lifespan

    @app.get("/pipekit/status")
    async def pipekit_status() -> dict:
        """Which pipelines loaded and which failed (with the reason), and whether each store
        answers."""
        return loader.report.as_dict() | {"stores": await _store_states()}

    @app.get("/pipekit/ready")
    async def pipekit_ready() -> JSONResponse:
        """200 when every store this replica is configured with answers, else 503: a replica
        that cannot reach the database or Milvus takes no traffic."""
        stores = await _store_states()
        ready = all_reachable(stores)
        return JSONResponse({"ready": ready, "stores": stores}, status_code=200 if ready else 503)

    valves_routes.install(app, upstream, loader.valves)
    pipeline_files.install(app, upstream, config.pipelines_dir, config.allow_remote_add)
    guard_metrics.install_route(app)  # Prometheus text, behind the key like every route
    _replace_refresh_middleware(app, upstream)
    app.add_middleware(JsonBodyCheck)
    app.add_middleware(BodySizeLimit, max_bytes=config.max_body_bytes)  # before any buffering
    app.add_middleware(BearerKeyMiddleware, api_key=config.api_key)  # outermost
    return app


def _replace_refresh_middleware(app: FastAPI, upstream) -> None:
    """Upstream refreshes its pipeline table on every request in a BaseHTTPMiddleware, which
    also relays every streamed chunk through an extra task and queue. The same refresh as a
    plain ASGI middleware costs a function call."""
    app.user_middleware = [
        entry for entry in app.user_middleware if entry.cls is not BaseHTTPMiddleware
    ]
    app.add_middleware(PipelinesRefresh, upstream=upstream, loader=app.state.pipekit_loader)


class PipelinesRefresh:
    """Per request: apply valves saved through other replicas, then rebuild
    `app.state.PIPELINES` (valve updates change filters' targets)."""

    def __init__(self, app: ASGIApp, upstream, loader: PipelineLoader) -> None:
        self.app = app
        self.upstream = upstream
        self.loader = loader

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.loader.sync_valves()
            self.upstream.app.state.PIPELINES = self.upstream.get_all_pipelines()
        await self.app(scope, receive, send)


async def _store_states() -> dict:
    return await anyio.to_thread.run_sync(store_states)
