"""A fake Ollama server speaking the real API, for tests and benchmarks.

The real `ollama` client talks to it unchanged: `/api/chat` streams NDJSON (tool calls
included), `/api/embed` returns real embeddings from pipekit's offline embedder, `/api/tags`,
`/api/show`, `/api/version` and `/api/generate` answer as Ollama does.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .fake_base import FakeModelServer, Reply, embed_texts

__all__ = ["FakeOllama", "Reply"]


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _line(payload: dict[str, Any]) -> bytes:
    return (json.dumps(payload, ensure_ascii=False) + "\n").encode()


class FakeOllama(FakeModelServer):
    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self._root),
            web.get("/api/version", self._version),
            web.get("/api/tags", self._tags),
            web.post("/api/show", self._show),
            web.post("/api/chat", self._chat),
            web.post("/api/generate", self._generate),
            web.post("/api/embed", self._embed),
            web.post("/api/embeddings", self._embeddings),
        ]

    async def _root(self, _request: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    async def _version(self, _request: web.Request) -> web.Response:
        return web.json_response({"version": "0.12.0"})

    async def _tags(self, request: web.Request) -> web.Response:
        await self.record(request)
        models = [
            {
                "name": name,
                "model": name,
                "modified_at": _now(),
                "size": 2_000_000_000,
                "digest": f"{abs(hash(name)):064x}"[:64],
                "details": {"format": "gguf", "family": "llama", "parameter_size": "3B"},
            }
            for name in (self.models or [])
        ]
        return web.json_response({"models": models})

    async def _show(self, request: web.Request) -> web.Response:
        body = await self.record(request)
        name = body.get("model") or body.get("name") or ""
        if not self.model_known(name):
            return self._missing(name)
        return web.json_response(
            {
                "modelfile": f"FROM {name}",
                "parameters": "",
                "template": "{{ .Prompt }}",
                "details": {"format": "gguf", "family": "llama", "parameter_size": "3B"},
                "model_info": {"llama.context_length": 131072},
                "capabilities": ["completion", "tools"],
            }
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await self.record(request)
        model = body.get("model", "")
        if not self.model_known(model):
            return self._missing(model)
        reply = self.next_reply(body.get("messages") or [])
        if reply.status != 200:
            return web.json_response({"error": reply.error}, status=reply.status)
        calls = [
            {"function": {"name": call["name"], "arguments": call.get("arguments") or {}}}
            for call in reply.tool_calls
        ]
        pieces = reply.pieces()
        started = time.perf_counter_ns()
        frames = [
            _line(
                {
                    "model": model,
                    "created_at": _now(),
                    "message": {"role": "assistant", "content": piece},
                    "done": False,
                }
            )
            for piece in pieces
        ]
        if calls:
            frames.append(
                _line(
                    {
                        "model": model,
                        "created_at": _now(),
                        "done": False,
                        "message": {"role": "assistant", "content": "", "tool_calls": calls},
                    }
                )
            )
        final = {
            "model": model,
            "created_at": _now(),
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "total_duration": time.perf_counter_ns() - started,
            "load_duration": 1000,
            "prompt_eval_count": sum(
                len(str(m.get("content", ""))) for m in body.get("messages") or []
            )
            // 4,
            "prompt_eval_duration": 1000,
            "eval_count": len(pieces),
            "eval_duration": 1000,
        }
        if body.get("stream", True) is False:
            final["message"] = {"role": "assistant", "content": reply.content or "".join(pieces)}
            if calls:
                final["message"]["tool_calls"] = calls
            return web.json_response(final)
        return await self.stream(request, reply, [*frames, _line(final)], "application/x-ndjson")

    async def _generate(self, request: web.Request) -> web.StreamResponse:
        body = await self.record(request)
        model = body.get("model", "")
        if not self.model_known(model):
            return self._missing(model)
        reply = self.next_reply([{"role": "user", "content": body.get("prompt", "")}])
        frames = [
            _line({"model": model, "created_at": _now(), "response": piece, "done": False})
            for piece in reply.pieces()
        ]
        final = {
            "model": model,
            "created_at": _now(),
            "response": "",
            "done": True,
            "done_reason": "stop",
        }
        if body.get("stream", True) is False:
            final["response"] = reply.content
            return web.json_response(final)
        return await self.stream(request, reply, [*frames, _line(final)], "application/x-ndjson")

    async def _embed(self, request: web.Request) -> web.Response:
        body = await self.record(request)
        model = body.get("model", "")
        if not self.model_known(model):
            return self._missing(model)
        texts = body.get("input") or []
        texts = [texts] if isinstance(texts, str) else list(texts)
        return web.json_response({"model": model, "embeddings": embed_texts(texts)})

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = await self.record(request)
        model = body.get("model", "")
        if not self.model_known(model):
            return self._missing(model)
        return web.json_response({"embedding": embed_texts([body.get("prompt", "")])[0]})

    @staticmethod
    def _missing(model: str) -> web.Response:
        return web.json_response(
            {"error": f'model "{model}" not found, try pulling it first'}, status=404
        )
