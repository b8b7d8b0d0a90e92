"""A fake Ollama server speaking the real API, for tests and benchmarks.

The real `ollama` client talks to it unchanged: `/api/chat` streams NDJSON (tool calls
included), `/api/embed` returns real embeddings from pipekit's offline embedder, `/api/tags`,
`/api/show`, `/api/version`, `/api/ps` and `/api/generate` answer as Ollama does.

    with FakeOllama() as fake:
        fake.script(Reply(content="Hello!"))
        ollama.Client(host=fake.url).chat(model="llama3.2:3b", messages=[...])
        assert fake.bodies("/api/chat")[-1]["options"]["temperature"] == 0.2
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from .fake_base import FakeModelServer, Reply, Turn, dumps, estimate_tokens, texts_of

__all__ = ["FakeOllama", "Reply"]

VERSION = "0.12.6"


class FakeOllama(FakeModelServer):
    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self._root),
            web.get("/api/version", self._version),
            web.get("/api/tags", self._tags),
            web.get("/api/ps", self._ps),
            web.post("/api/show", self._show),
            web.post("/api/chat", self._chat),
            web.post("/api/generate", self._generate),
            web.post("/api/embed", self._embed),
            web.post("/api/embeddings", self._embeddings),
        ]

    async def _root(self, _request: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    async def _version(self, _request: web.Request) -> web.Response:
        return web.json_response({"version": VERSION})

    async def _tags(self, _request: web.Request) -> web.Response:
        return web.json_response({"models": [_model_entry(name) for name in self.models or []]})

    async def _ps(self, _request: web.Request) -> web.Response:
        return web.json_response({"models": []})

    async def _show(self, request: web.Request) -> web.Response:
        body = self.body(request)
        name = body.get("model") or body.get("name") or ""
        if not self.model_known(name, embedding=True):
            return _missing(name)
        embedding = "embed" in name or name.removesuffix(":latest") in self.embedding_models
        return web.json_response(
            {
                "license": "",
                "modelfile": f"FROM {name}",
                "parameters": "",
                "template": "{{ .Prompt }}",
                "details": _details(name),
                "model_info": {
                    "general.architecture": "llama",
                    "general.parameter_count": 3_212_749_888,
                    "llama.context_length": 131072,
                    "llama.embedding_length": 3072,
                },
                "capabilities": ["embedding"] if embedding else ["completion", "tools"],
                "modified_at": _now(),
            }
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = self.body(request)
        model = str(body.get("model", ""))
        if not self.model_known(model):
            return _missing(model)
        messages = body.get("messages") or []
        turn = self.next_turn(messages, (body.get("options") or {}).get("num_predict"))
        if turn.reply.status != 200:
            return self.send_json(request, {"error": turn.reply.error}, turn.reply.status)
        calls = [
            {"function": {"name": call["name"], "arguments": _arguments(call)}}
            for call in turn.reply.tool_calls
        ]
        final = _final(model, turn, started=time.perf_counter_ns(), prompt=messages)
        if body.get("stream", True) is False:
            final["message"] = {"role": "assistant", "content": turn.text}
            if calls:
                final["message"]["tool_calls"] = calls
            return self.send_json(request, final)
        frames = [
            _line(
                {
                    "model": model,
                    "created_at": _now(),
                    "message": {"role": "assistant", "content": piece},
                    "done": False,
                }
            )
            for piece in turn.pieces
        ]
        if calls:  # Ollama sends the calls whole, in one chunk after the text
            frames.append(
                _line(
                    {
                        "model": model,
                        "created_at": _now(),
                        "message": {"role": "assistant", "content": "", "tool_calls": calls},
                        "done": False,
                    }
                )
            )
        final["message"] = {"role": "assistant", "content": ""}
        frames.append(_line(final))
        return await self.send_stream(request, turn.reply, frames, "application/x-ndjson")

    async def _generate(self, request: web.Request) -> web.StreamResponse:
        body = self.body(request)
        model = str(body.get("model", ""))
        if not self.model_known(model):
            return _missing(model)
        prompt = str(body.get("prompt", ""))
        turn = self.next_turn(
            [{"role": "user", "content": prompt}], (body.get("options") or {}).get("num_predict")
        )
        if turn.reply.status != 200:
            return self.send_json(request, {"error": turn.reply.error}, turn.reply.status)
        final = _final(model, turn, started=time.perf_counter_ns(), prompt=prompt)
        if body.get("stream", True) is False:
            return self.send_json(request, {**final, "response": turn.text})
        frames = [
            _line({"model": model, "created_at": _now(), "response": piece, "done": False})
            for piece in turn.pieces
        ]
        frames.append(_line({**final, "response": ""}))
        return await self.send_stream(request, turn.reply, frames, "application/x-ndjson")

    async def _embed(self, request: web.Request) -> web.Response:
        body = self.body(request)
        model = str(body.get("model", ""))
        if not self.model_known(model, embedding=True):
            return _missing(model)
        texts = texts_of(body.get("input"))
        started = time.perf_counter_ns()
        vectors = await self.embed(texts)
        return self.send_json(
            request,
            {
                "model": model,
                "embeddings": vectors,
                "total_duration": time.perf_counter_ns() - started,
                "load_duration": 1000,
                "prompt_eval_count": sum(estimate_tokens(text) for text in texts),
            },
        )

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = self.body(request)
        model = str(body.get("model", ""))
        if not self.model_known(model, embedding=True):
            return _missing(model)
        vectors = await self.embed([str(body.get("prompt", ""))])
        return self.send_json(request, {"embedding": vectors[0]})


def _final(model: str, turn: Turn, *, started: int, prompt: Any) -> dict[str, Any]:
    """The closing `done` object, with Ollama's counters and nanosecond durations."""
    return {
        "model": model,
        "created_at": _now(),
        "done": True,
        "done_reason": "length" if turn.cut else "stop",
        "total_duration": time.perf_counter_ns() - started + 2000,
        "load_duration": 1000,
        "prompt_eval_count": estimate_tokens(prompt),
        "prompt_eval_duration": 1000,
        "eval_count": len(turn.pieces),
        "eval_duration": 1000,
    }


def _arguments(call: dict[str, Any]) -> Any:
    # Ollama sends arguments as an object; a str scripted for OpenAI is parsed when it can be.
    arguments = call.get("arguments") or {}
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return {}
    return arguments


def _model_entry(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "model": name,
        "modified_at": _now(),
        "size": 2_019_393_189,
        "digest": hashlib.sha256(name.encode()).hexdigest(),
        "details": _details(name),
    }


def _details(name: str) -> dict[str, Any]:
    family = "nomic-bert" if "embed" in name else name.split(":")[0].rstrip("0123456789.")
    return {
        "parent_model": "",
        "format": "gguf",
        "family": family or "llama",
        "families": [family or "llama"],
        "parameter_size": "3.2B",
        "quantization_level": "Q4_K_M",
    }


def _missing(model: str) -> web.Response:
    return web.json_response(
        {"error": f'model "{model}" not found, try pulling it first'}, status=404
    )


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _line(payload: dict[str, Any]) -> bytes:
    return (dumps(payload) + "\n").encode()
