"""Chat over the Ollama API with the `ollama` package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import ollama

from . import errors
from .messages import to_ollama
from .types import ChatChunk, ChatOptions, LLMConfig, ToolCall


class OllamaBackend:
    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        # Shared by every chat using this config; room for many concurrent streams.
        self._client = ollama.Client(
            host=config.base_url,
            timeout=config.timeout_s,
            limits=httpx.Limits(max_connections=512, max_keepalive_connections=64),
        )

    def stream(
        self, messages: list[dict], options: ChatOptions, tools: list[dict] | None = None
    ) -> Iterator[ChatChunk]:
        finished = False
        converted, refused_images = to_ollama(messages)
        if refused_images:
            yield ChatChunk(text=errors.images_left_out(refused_images))
        with self._translated_errors():
            response = self._client.chat(
                model=self.config.model,
                messages=converted,
                tools=tools or None,
                stream=True,
                options=_ollama_options(options),
            )
            for part in response:
                chunk = _chunk(part)
                finished = finished or chunk.done
                yield chunk
        if not finished:
            raise errors.cut_off(self.config, "the stream ended before the model said it was done")

    def list_models(self) -> list[str]:
        with self._translated_errors():
            return [model.model for model in self._client.list().models if model.model]

    def _translated_errors(self):
        return translated_errors(self.config)


@contextmanager
def translated_errors(config: LLMConfig) -> Iterator[None]:
    """Turn client exceptions into LLMError with a message for the chat."""
    try:
        yield
    except ollama.ResponseError as exc:
        if exc.status_code == 404:
            raise errors.model_missing(config) from exc
        if exc.status_code == -1:  # an {"error": ...} line inside a running stream
            raise errors.cut_off(config, f"the server reported: {exc.error}") from exc
        raise errors.rejected(config, exc.status_code, str(exc.error)) from exc
    except (ConnectionError, httpx.ConnectError) as exc:
        raise errors.unreachable(config, "connection refused") from exc
    except httpx.TimeoutException as exc:
        raise errors.timed_out(config) from exc
    except httpx.TransportError as exc:
        raise errors.cut_off(config, f"the connection broke ({type(exc).__name__})") from exc


def _ollama_options(options: ChatOptions) -> dict[str, Any]:
    return options.as_params(
        {
            "temperature": "temperature",
            "max_tokens": "num_predict",
            "context_length": "num_ctx",
            "stop": "stop",
        }
    )


def _chunk(part: ollama.ChatResponse) -> ChatChunk:
    message = part.message
    calls = [
        ToolCall(name=call.function.name, arguments=dict(call.function.arguments or {}))
        for call in (message.tool_calls or [])
    ]
    return ChatChunk(
        text=message.content or "",
        tool_calls=calls,
        done=bool(part.done),
        prompt_tokens=part.prompt_eval_count,
        completion_tokens=part.eval_count,
    )
