"""What every model backend speaks: configuration, options, chunks, tool calls, errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Backend = Literal["ollama", "openai"]


@dataclass(frozen=True)
class LLMConfig:
    backend: Backend
    base_url: str
    model: str
    api_key: str = ""
    timeout_s: float = 120.0


@dataclass(frozen=True)
class ChatOptions:
    temperature: float | None = None
    max_tokens: int | None = None
    # Ollama's num_ctx; OpenAI-compatible servers fix the context at launch and ignore it.
    context_length: int | None = None
    stop: tuple[str, ...] = ()

    def as_params(self, names: dict[str, str]) -> dict[str, Any]:
        """The options that are set, under each backend's own parameter names."""
        values = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "context_length": self.context_length,
            "stop": list(self.stop) or None,
        }
        return {
            names[key]: value for key, value in values.items() if key in names and value is not None
        }


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]
    id: str | None = None
    # Set when the model sent arguments that are not a JSON object: the agent loop repairs.
    raw_arguments: str | None = None


@dataclass
class ChatChunk:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    done: bool = False
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class LLMError(Exception):
    """A failure the user must read in the chat: the message says what, where and what to do."""

    def __init__(self, message: str, *, kind: str = "error") -> None:
        super().__init__(message)
        self.user_message = message
        # "unreachable", "model_missing", "timeout", "cut", "auth", "error"; and for the agent
        # loop: "no_tool_support" (the model cannot call tools), "bad_tool_call" (it botched one)
        self.kind = kind
