"""User-facing messages for backend failures, shared by both backends."""

from __future__ import annotations

from .types import LLMConfig, LLMError

_SERVER_NAMES = {"ollama": "Ollama server", "openai": "OpenAI-compatible server"}
_URL_VALVES = {
    "ollama": "the `ollama_base_url` valve or OLLAMA_BASE_URL",
    "openai": "the `openai_base_url` valve or OPENAI_BASE_URL",
}


def unreachable(config: LLMConfig, detail: str = "") -> LLMError:
    server = _SERVER_NAMES[config.backend]
    reason = f" ({detail})" if detail else ""
    return LLMError(
        f"⚠️ Cannot reach the {server} at {config.base_url} for model `{config.model}`{reason}. "
        f"Is it running? Check {_URL_VALVES[config.backend]}.",
        kind="unreachable",
    )


def model_missing(config: LLMConfig) -> LLMError:
    hint = (
        f"Pull it with `ollama pull {config.model}`"
        if config.backend == "ollama"
        else "Check the model name the server was started with"
    )
    return LLMError(
        f"⚠️ The model `{config.model}` is not available on the {_SERVER_NAMES[config.backend]} "
        f"at {config.base_url}. {hint}, or choose another in the `model` valve.",
        kind="model_missing",
    )


def timed_out(config: LLMConfig) -> LLMError:
    return LLMError(
        f"⚠️ The {_SERVER_NAMES[config.backend]} at {config.base_url} did not answer within "
        f"{config.timeout_s:g} s for model `{config.model}`. It may be loading the model or "
        "overloaded; try again, or raise the `request_timeout_s` valve.",
        kind="timeout",
    )


def cut_off(config: LLMConfig, detail: str) -> LLMError:
    return LLMError(
        f"⚠️ The answer from `{config.model}` at {config.base_url} was cut off: {detail}. "
        "Try again; if it keeps happening, check the model server's logs.",
        kind=_tool_error_kind(detail) or "cut",
    )


def rejected(config: LLMConfig, status: int, detail: str) -> LLMError:
    kind = "auth" if status in (401, 403) else _tool_error_kind(detail) or "error"
    hint = " Check the `openai_api_key` valve or OPENAI_API_KEY." if kind == "auth" else ""
    return LLMError(
        f"⚠️ The {_SERVER_NAMES[config.backend]} at {config.base_url} refused the request for "
        f"model `{config.model}` (HTTP {status}: {detail.strip()[:300]}).{hint}",
        kind=kind,
    )


def _tool_error_kind(detail: str) -> str | None:
    """What the model server said about tool calling, for the agent loop to act on: a model
    without tool support (Ollama: "… does not support tools") switches to ReAct prompts; a
    malformed call (Ollama: "error parsing tool call: …") gets one repair."""
    if "does not support tools" in detail:
        return "no_tool_support"
    if "tool call" in detail.lower():
        return "bad_tool_call"
    return None


def images_left_out(reasons: list[str]) -> str:
    """A line shown before the answer when images of the conversation were not sent."""
    count = f"{len(reasons)} images were" if len(reasons) > 1 else "An image was"
    why = "; ".join(dict.fromkeys(reasons))
    return f"⚠️ {count} left out, not shown to the model: {why}.\n\n"


def embedding_failed(base_url: str, model: str, error: Exception) -> LLMError:
    """An Ollama embedding request that failed. No ⚠️: the RAG pipe adds it in the chat, and
    `pipekit ingest` prints the message on the terminal."""
    text = str(error)
    if "not found" in text.lower():
        return LLMError(
            f"The embedding model `{model}` is not available on Ollama at {base_url}: "
            f"run `ollama pull {model}` there, or choose another embedder.",
            kind="model_missing",
        )
    return LLMError(
        f"Ollama at {base_url} did not embed with `{model}`: {type(error).__name__}: {text}",
        kind="unreachable" if isinstance(error, ConnectionError) else "error",
    )
