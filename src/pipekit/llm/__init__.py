"""One chat interface over Ollama and OpenAI-compatible servers.

Every failure becomes an `LLMError` whose message names the server URL and the model, so
the pipe can show it in the chat instead of an empty reply.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Protocol

from .messages import image_urls_of, scrub_surrogates, text_of
from .types import ChatChunk, ChatOptions, LLMConfig, LLMError, ToolCall

__all__ = [
    "ChatBackend",
    "ChatChunk",
    "ChatOptions",
    "ChatReply",
    "LLMConfig",
    "LLMError",
    "ToolCall",
    "chat_backend",
    "complete",
    "image_urls_of",
    "scrub_surrogates",
    "stream_text",
    "text_of",
]


class ChatBackend(Protocol):
    config: LLMConfig

    def stream(
        self, messages: list[dict], options: ChatOptions, tools: list[dict] | None = None
    ) -> Iterator[ChatChunk]: ...

    def list_models(self) -> list[str]: ...


@lru_cache(maxsize=32)
def chat_backend(config: LLMConfig) -> ChatBackend:
    """The backend for a config, shared across requests: a new HTTP client costs ~20 ms
    (TLS context set-up) and would add that to every answer's first token."""
    if config.backend == "ollama":
        from .ollama_backend import OllamaBackend

        return OllamaBackend(config)
    if config.backend == "openai":
        if not config.base_url:
            raise LLMError(
                "⚠️ The OpenAI-compatible backend is selected but no URL is set: fill the "
                "`openai_base_url` valve or set OPENAI_BASE_URL (e.g. http://vllm:8000/v1).",
                kind="unreachable",
            )
        from .openai_backend import OpenAIBackend

        return OpenAIBackend(config)
    raise LLMError(f"⚠️ Unknown model backend `{config.backend}`: use `ollama` or `openai`.")


def stream_text(backend: ChatBackend, messages: list[dict], options: ChatOptions) -> Iterator[str]:
    """Just the answer's text, as it streams."""
    for chunk in backend.stream(messages, options):
        if chunk.text:
            yield chunk.text


class ChatReply(ChatChunk):
    """A whole answer: its text, the tool calls the model asked for, and token counts."""


def complete(
    backend: ChatBackend,
    messages: list[dict],
    options: ChatOptions,
    tools: list[dict] | None = None,
) -> ChatReply:
    """Run a chat to the end and gather the text and tool calls."""
    reply = ChatReply(done=True)
    parts = []
    for chunk in backend.stream(messages, options, tools):
        parts.append(chunk.text)
        reply.tool_calls.extend(chunk.tool_calls)
        reply.prompt_tokens = chunk.prompt_tokens or reply.prompt_tokens
        reply.completion_tokens = chunk.completion_tokens or reply.completion_tokens
    reply.text = "".join(parts)
    return reply
