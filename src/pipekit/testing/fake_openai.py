"""A fake OpenAI-compatible server (as vLLM serves it), for tests.

`/v1/chat/completions` streams SSE chunks (tool calls in OpenAI's delta format) or answers
in one piece, `/v1/models` and `/v1/embeddings` answer; an optional key is checked.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from aiohttp import web

from .fake_base import FakeModelServer, Reply, embed_texts

__all__ = ["FakeOpenAI", "Reply"]


def _sse(payload: dict[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n".encode()


class FakeOpenAI(FakeModelServer):
    default_models = ("granite", "llama3.2:3b")

    def __init__(self, *, api_key: str | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.api_key = api_key

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/models", self._models),
            web.post("/v1/chat/completions", self._chat),
            web.post("/v1/embeddings", self._embeddings),
        ]

    async def _models(self, request: web.Request) -> web.Response:
        await self.record(request)
        if refused := self._check_key(request):
            return refused
        data = [
            {"id": m, "object": "model", "owned_by": "fake", "created": 0}
            for m in self.models or []
        ]
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await self.record(request)
        if refused := self._check_key(request):
            return refused
        model = body.get("model", "")
        if not self.model_known(model):
            return _error(404, f"The model `{model}` does not exist.", "NotFoundError")
        reply = self.next_reply(body.get("messages") or [])
        if reply.status != 200:
            return _error(reply.status, reply.error, "BadRequestError")
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        calls = [
            {
                "index": index,
                "id": f"call_{uuid.uuid4().hex[:8]}",
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": call["arguments"]
                    if isinstance(call.get("arguments"), str)
                    else json.dumps(call.get("arguments") or {}),
                },
            }
            for index, call in enumerate(reply.tool_calls)
        ]
        finish = "tool_calls" if calls else "stop"
        pieces = reply.pieces()
        usage = {
            "prompt_tokens": 10,
            "completion_tokens": len(pieces),
            "total_tokens": 10 + len(pieces),
        }
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
            if calls:
                message["tool_calls"] = [
                    {k: v for k, v in c.items() if k != "index"} for c in calls
                ]
            return web.json_response(
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "usage": usage,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                }
            )

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
            return _sse(
                {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
                }
            )

        frames = [chunk({"role": "assistant", "content": piece}) for piece in pieces]
        frames += [chunk({"tool_calls": [call]}) for call in calls]
        frames.append(chunk({}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            frames.append(
                _sse(
                    {
                        "id": completion_id,
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [],
                        "usage": usage,
                    }
                )
            )
        frames.append(_sse("[DONE]"))
        return await self.stream(request, reply, frames, "text/event-stream")

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = await self.record(request)
        if refused := self._check_key(request):
            return refused
        texts = body.get("input") or []
        texts = [texts] if isinstance(texts, str) else list(texts)
        vectors = embed_texts(texts)
        return web.json_response(
            {
                "object": "list",
                "model": body.get("model", ""),
                "data": [
                    {"object": "embedding", "index": i, "embedding": v}
                    for i, v in enumerate(vectors)
                ],
                "usage": {"prompt_tokens": 0, "total_tokens": 0},
            }
        )

    def _check_key(self, request: web.Request) -> web.Response | None:
        if self.api_key is None:
            return None
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Invalid API key.", "AuthenticationError")
        return None


def _error(status: int, message: str, kind: str) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": kind, "code": status}}, status=status
    )
