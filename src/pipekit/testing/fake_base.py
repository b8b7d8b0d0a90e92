"""Shared machinery of the fake model servers, on the `HTTPFake` base.

Scripted replies are queued per test; the base records every request so tests can assert what
the model received, and can refuse connections or stall; `die_after` cuts a stream after N
chunks, which is how real model servers fail. The protocol modules (fake_ollama, fake_openai)
only turn a `Reply` into their wire format.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .http_fake import HTTPFake

_TOKEN = re.compile(r"\s*\S+\s*|\s+")
DEFAULT_EMBEDDING_MODELS = ("nomic-embed-text", "all-minilm", "mxbai-embed-large", "bge-m3")


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

    @classmethod
    def tokens(cls, n: int, delay_s: float | None = None) -> Reply:
        """Exactly n chunks ("t0 ", "t1 ", ...) at a fixed pace: a stream for benchmarks."""
        return cls(chunks=[f"t{index} " for index in range(n)], token_delay_s=delay_s)

    def pieces(self) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        return _TOKEN.findall(self.content) if self.content else []

    def text(self) -> str:
        return "".join(self.chunks) if self.chunks is not None else self.content


@dataclass
class Turn:
    """What one chat request answers: the reply, cut to the request's token limit."""

    reply: Reply
    pieces: list[str]
    cut: bool  # True when the token limit stopped it: done_reason/finish_reason "length"

    @property
    def text(self) -> str:
        return "".join(self.pieces) if self.cut else self.reply.text()


class FakeModelServer(HTTPFake):
    """Base of FakeOllama and FakeOpenAI. Use as a context manager or start()/stop()."""

    default_models: tuple[str, ...] = ("llama3.2:3b", "qwen2.5:7b", "nomic-embed-text")

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        models: list[str] | tuple[str, ...] | None = (),
        embedding_models: list[str] | tuple[str, ...] = DEFAULT_EMBEDDING_MODELS,
        token_delay_s: float = 0.0,
        default_reply: str | Reply | None = None,
    ) -> None:
        super().__init__(host=host, port=port)
        # () means the class defaults; None accepts any model name (handy for the CLI).
        self.models: list[str] | None = (
            list(self.default_models) if models == () else None if models is None else list(models)
        )
        # Accepted by the embedding endpoints on top of `models`, but not listed.
        self.embedding_models = list(embedding_models)
        self.token_delay_s = token_delay_s
        self.default_reply = default_reply
        self._replies: deque[Reply] = deque()
        self._die_after: int | None = None

    # --- scripting and failure switches -------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Queue replies; each chat/generate request takes the next one."""
        with self._lock:
            self._replies.extend(replies)

    def stream_tokens(self, n: int, delay_s: float | None = None) -> None:
        """Answer every unscripted request with n tokens at delay_s apart (benchmarks)."""
        self.default_reply = Reply.tokens(n, delay_s)

    def die_after(self, chunks: int) -> None:
        """Abort the TCP connection after this many streamed chunks (until reset()).

        A non-streamed answer is one chunk: die_after(0) cuts it, larger values let it pass.
        """
        self._die_after = chunks

    def reset(self) -> None:
        """Back to a fresh server: no script, no records, no failure switch, listening."""
        with self._lock:
            self._replies.clear()
        self._die_after = None
        super().reset()

    # --- for the protocol subclasses --------------------------------------------------------

    def model_known(self, name: str, *, embedding: bool = False) -> bool:
        """As Ollama does, `name` and `name:latest` are the same model."""
        if self.models is None:
            return True
        names = [*self.models, *self.embedding_models] if embedding else self.models
        bare = name.removesuffix(":latest")
        return bare in names or f"{bare}:latest" in names

    def body(self, request: web.Request) -> dict[str, Any]:
        """The request's JSON object; {} when the body is empty or not an object."""
        body = self.recorded(request)["body"]
        return body if isinstance(body, dict) else {}

    def next_turn(self, messages: list[dict[str, Any]], max_tokens: Any = None) -> Turn:
        """The next scripted reply (or the default), cut to max_tokens pieces if positive."""
        with self._lock:
            reply = self._replies.popleft() if self._replies else None
        if reply is None:
            default = self.default_reply
            if isinstance(default, Reply):
                reply = default
            elif default is not None:
                reply = Reply(content=default)
            else:
                reply = Reply(content=f"You said: {last_user_text(messages)}")
        pieces = reply.pieces()
        limit = max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else None
        cut = limit is not None and len(pieces) > limit
        return Turn(reply, pieces[:limit] if cut else pieces, cut)

    async def send_stream(
        self, request: web.Request, reply: Reply, frames: list[bytes], content_type: str
    ) -> web.StreamResponse:
        """Send frames at the reply's pace; honour die_after by aborting the connection."""
        response = web.StreamResponse(headers={"Content-Type": content_type})
        await response.prepare(request)
        delay = self.token_delay_s if reply.token_delay_s is None else reply.token_delay_s
        # A fixed schedule, not sleep(delay) per chunk: write time must not add up over 64
        # concurrent streams.
        next_at = time.monotonic()
        for index, frame in enumerate(frames):
            if self._die_after is not None and index >= self._die_after:
                return self._abort(request, response)
            if delay and index:
                next_at += delay
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await response.write(frame)
        await response.write_eof()
        return response

    def send_json(self, request: web.Request, payload: Any, status: int = 200) -> web.Response:
        """A one-piece answer, cut by die_after(0) like a stream's first chunk."""
        response = web.json_response(payload, status=status, dumps=dumps)
        if self._die_after == 0:
            return self._abort(request, response)
        return response

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Real embeddings, off the event loop so concurrent streams keep their pace."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, embed_texts, texts)

    # --- internals --------------------------------------------------------------------------

    @staticmethod
    def _abort(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        # Drop the TCP connection without a proper end: clients see a cut stream or a
        # reset, as when a model server crashes or is OOM-killed mid-answer.
        if request.transport is not None:
            request.transport.abort()
        return response


def dumps(payload: Any) -> str:
    # Model servers send UTF-8 text as is, not \\u escapes.
    return json.dumps(payload, ensure_ascii=False)


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def estimate_tokens(value: Any) -> int:
    """A rough token count (4 characters a token) for usage figures."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return max(1, len(text) // 4) if text else 0


def embed_texts(texts: list[str]) -> list[list[float]]:
    """Real embeddings from pipekit's offline embedder, so similarity means something."""
    from pipekit.embeddings import get_local_embedder

    return get_local_embedder().embed(texts)


def embedding_as_base64(vector: list[float]) -> str:
    """OpenAI's `encoding_format: base64`: little-endian float32 bytes."""
    import numpy as np

    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()


def texts_of(value: Any) -> list[str]:
    """An embedding request's input, as a list of strings."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(item) for item in value]
