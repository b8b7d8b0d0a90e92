"""Chat over an OpenAI-compatible server (vLLM, as on OpenShift AI) with the `openai` package."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import openai

from . import errors
from .messages import to_openai
from .types import ChatChunk, ChatOptions, LLMConfig, ToolCall


class OpenAIBackend:
    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self._client = openai.OpenAI(
            base_url=config.base_url,
            # vLLM without --api-key accepts any; the client insists on a non-empty one.
            api_key=config.api_key or "not-needed",
            timeout=config.timeout_s,
            max_retries=0,
        )

    def stream(
        self, messages: list[dict], options: ChatOptions, tools: list[dict] | None = None
    ) -> Iterator[ChatChunk]:
        pending_calls: dict[int, dict[str, Any]] = {}
        finished = False
        converted, refused_images = to_openai(messages)
        if refused_images:
            yield ChatChunk(text=errors.images_left_out(refused_images))
        with translated_errors(self.config):
            response = self._client.chat.completions.create(
                model=self.config.model,
                messages=converted,
                stream=True,
                stream_options={"include_usage": True},
                **_openai_options(options),
                **({"tools": tools} if tools else {}),
            )
            for event in response:
                usage = event.usage
                for choice in event.choices:
                    delta = choice.delta
                    for call in delta.tool_calls or []:
                        _accumulate_tool_call(pending_calls, call)
                    if delta.content:
                        yield ChatChunk(text=delta.content)
                    if choice.finish_reason:
                        finished = True
                if usage is not None:
                    yield ChatChunk(
                        prompt_tokens=usage.prompt_tokens,
                        completion_tokens=usage.completion_tokens,
                    )
        if not finished:
            raise errors.cut_off(self.config, "the stream ended without a finish reason")
        yield ChatChunk(tool_calls=[_tool_call(call) for call in pending_calls.values()], done=True)

    def list_models(self) -> list[str]:
        with translated_errors(self.config):
            return [model.id for model in self._client.models.list()]


@contextmanager
def translated_errors(config: LLMConfig) -> Iterator[None]:
    """Turn client exceptions into LLMError with a message for the chat."""
    try:
        yield
    except openai.NotFoundError as exc:
        raise errors.model_missing(config) from exc
    except openai.APITimeoutError as exc:
        raise errors.timed_out(config) from exc
    except openai.APIConnectionError as exc:
        raise errors.unreachable(config, "connection failed") from exc
    except openai.APIStatusError as exc:
        raise errors.rejected(config, exc.status_code, exc.message) from exc
    except httpx.TransportError as exc:
        raise errors.cut_off(config, f"the connection broke ({type(exc).__name__})") from exc


def _openai_options(options: ChatOptions) -> dict[str, Any]:
    # OpenAI-compatible servers fix the context length at launch: there is no such option.
    return options.as_params(
        {"temperature": "temperature", "max_tokens": "max_tokens", "stop": "stop"}
    )


def _accumulate_tool_call(pending: dict[int, dict[str, Any]], delta: Any) -> None:
    """Tool calls arrive in pieces keyed by index: the name once, the arguments as fragments."""
    call = pending.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
    call["id"] = delta.id or call["id"]
    if delta.function is not None:
        call["name"] += delta.function.name or ""
        call["arguments"] += delta.function.arguments or ""


def _tool_call(call: dict[str, Any]) -> ToolCall:
    raw = call["arguments"] or "{}"
    try:
        arguments = json.loads(raw)
    except json.JSONDecodeError:
        return ToolCall(name=call["name"], arguments={}, id=call["id"], raw_arguments=raw)
    if not isinstance(arguments, dict):
        return ToolCall(name=call["name"], arguments={}, id=call["id"], raw_arguments=raw)
    return ToolCall(name=call["name"], arguments=arguments, id=call["id"])
