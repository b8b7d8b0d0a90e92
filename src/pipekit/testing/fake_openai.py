"""A fake OpenAI-compatible server (as vLLM serves it), for tests.

`/v1/chat/completions` streams SSE chunks (tool calls in OpenAI's delta format: the name
first, the arguments in fragments) or answers in one piece; `/v1/models` and
`/v1/embeddings` answer; with `api_key=` a wrong bearer key gets a 401 on every route.

    with FakeOpenAI(api_key="secret") as fake:
        client = openai.OpenAI(base_url=fake.url + "/v1", api_key="secret")
        client.chat.completions.create(model="granite", messages=[...], stream=True)
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from aiohttp import web

from .fake_base import (
    FakeModelServer,
    Reply,
    dumps,
    embedding_as_base64,
    estimate_tokens,
    texts_of,
)

__all__ = ["FakeOpenAI", "Reply"]


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

    def authorize(self, request: web.Request) -> web.Response | None:
        if self.api_key is None:
            return None
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Invalid API key.", "AuthenticationError")
        return None

    async def _models(self, _request: web.Request) -> web.Response:
        data = [
            {
                "id": name,
                "object": "model",
                "created": 0,
                "owned_by": "vllm",
                "root": name,
                "parent": None,
                "max_model_len": 32768,
            }
            for name in self.models or []
        ]
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = self.body(request)
        model = str(body.get("model", ""))
        if not self.model_known(model):
            return _error(404, f"The model `{model}` does not exist.", "NotFoundError")
        messages = body.get("messages") or []
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        turn = self.next_turn(messages, limit)
        if turn.reply.status != 200:
            return _error(turn.reply.status, turn.reply.error, "BadRequestError")
        calls = [
            {
                "index": index,
                "id": f"chatcmpl-tool-{uuid.uuid4().hex[:16]}",
                "type": "function",
                "function": {"name": call["name"], "arguments": _arguments(call)},
            }
            for index, call in enumerate(turn.reply.tool_calls)
        ]
        finish = "length" if turn.cut else "tool_calls" if calls else "stop"
        prompt_tokens = estimate_tokens(messages)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(turn.pieces),
            "total_tokens": prompt_tokens + len(turn.pieces),
        }
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
            if calls:
                message["tool_calls"] = [
                    {key: value for key, value in call.items() if key != "index"} for call in calls
                ]
            choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            return self.send_json(
                request,
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [choice],
                    "usage": usage,
                },
            )

        def chunk(delta: dict[str, Any] | None, finish_reason: str | None = None) -> bytes:
            choices = (
                []
                if delta is None
                else [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
                ]
            )
            payload = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": choices,
            }
            if delta is None:
                payload["usage"] = usage
            return _sse(payload)

        frames = [chunk({"role": "assistant", "content": ""})]
        frames += [chunk({"content": piece}) for piece in turn.pieces]
        for call in calls:
            frames += [chunk({"tool_calls": [delta]}) for delta in _call_deltas(call)]
        frames.append(chunk({}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            frames.append(chunk(None))
        frames.append(b"data: [DONE]\n\n")
        return await self.send_stream(request, turn.reply, frames, "text/event-stream")

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = self.body(request)
        model = str(body.get("model", ""))
        if not self.model_known(model, embedding=True):
            return _error(404, f"The model `{model}` does not exist.", "NotFoundError")
        texts = texts_of(body.get("input"))
        vectors = await self.embed(texts)
        as_base64 = body.get("encoding_format") == "base64"  # the openai client's default
        tokens = sum(estimate_tokens(text) for text in texts)
        return self.send_json(
            request,
            {
                "object": "list",
                "model": model,
                "data": [
                    {
                        "object": "embedding",
                        "index": index,
                        "embedding": embedding_as_base64(vector) if as_base64 else vector,
                    }
                    for index, vector in enumerate(vectors)
                ],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


def _arguments(call: dict[str, Any]) -> str:
    # Arguments travel as a JSON string; a scripted str is sent verbatim, even if malformed.
    arguments = call.get("arguments")
    return arguments if isinstance(arguments, str) else json.dumps(arguments or {})


def _call_deltas(call: dict[str, Any]) -> list[dict[str, Any]]:
    """As vLLM streams a tool call: id, type and name first, then the arguments in pieces."""
    arguments = call["function"]["arguments"]
    head = {
        "index": call["index"],
        "id": call["id"],
        "type": "function",
        "function": {"name": call["function"]["name"], "arguments": ""},
    }
    step = max(1, len(arguments) // 3)
    return [head] + [
        {"index": call["index"], "function": {"arguments": arguments[start : start + step]}}
        for start in range(0, len(arguments), step)
    ]


def _error(status: int, message: str, kind: str) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": kind, "param": None, "code": status}},
        status=status,
    )


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {dumps(payload)}\n\n".encode()
