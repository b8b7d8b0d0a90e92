"""Typed valve bases. A valve left empty falls back to the environment at call time."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from pipekit import settings
from pipekit.llm import ChatOptions, LLMConfig


class ModelValves(BaseModel):
    """Which model answers, where it runs, and how it is sampled."""

    backend: Literal["ollama", "openai"] = Field(
        "ollama",
        description="Model server: 'ollama' (Ollama API) or 'openai' (an OpenAI-compatible "
        "server such as vLLM on OpenShift AI).",
    )
    model: str = Field(
        "",
        description="Model name, e.g. llama3.2:3b or qwen2.5:7b. Empty: $PIPEKIT_MODEL, "
        f"else {settings.DEFAULT_MODEL}.",
    )
    ollama_base_url: str = Field(
        "",
        description="Ollama URL. Empty: $OLLAMA_BASE_URL, else $OLLAMA_HOST, else "
        f"{settings.DEFAULT_OLLAMA_URL}.",
    )
    openai_base_url: str = Field(
        "",
        description="OpenAI-compatible URL ending in /v1, e.g. http://vllm:8000/v1. "
        "Empty: $OPENAI_BASE_URL.",
    )
    openai_api_key: str = Field(
        "", description="Key for the OpenAI-compatible server. Empty: $OPENAI_API_KEY."
    )
    temperature: float = Field(
        0.7, ge=0.0, le=2.0, description="Sampling temperature: 0 is focused, 1+ is creative."
    )
    max_tokens: int = Field(1024, ge=1, le=131072, description="Longest answer, in tokens.")
    context_length: int = Field(
        0,
        ge=0,
        le=1048576,
        description="Context window in tokens (Ollama num_ctx). 0: the model's default.",
    )
    request_timeout_s: float = Field(
        120.0, gt=0, le=3600, description="Seconds to wait for the model server to answer."
    )

    def llm_config(self) -> LLMConfig:
        if self.backend == "openai":
            base_url = self.openai_base_url.strip() or settings.openai_base_url()
            api_key = self.openai_api_key or settings.openai_api_key()
        else:
            base_url = settings.normalize_host_url(
                self.ollama_base_url.strip() or settings.ollama_base_url(), default_port=11434
            )
            api_key = ""
        return LLMConfig(
            backend=self.backend,
            base_url=base_url.rstrip("/"),
            model=self.model.strip() or settings.default_model(),
            api_key=api_key,
            timeout_s=self.request_timeout_s,
        )

    def chat_options(self) -> ChatOptions:
        return ChatOptions(
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            context_length=self.context_length or None,
        )


class FilterValves(BaseModel):
    """The two valves the pipelines server requires of every filter."""

    pipelines: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Pipelines (model ids) this filter applies to; '*' means all.",
    )
    priority: int = Field(0, description="Filters run in ascending priority order.")


class CollectionValves(BaseModel):
    """The document collections a pipe searches: one valve name and type in every pipe."""

    # Earlier names of valves, old -> current: saved valves and updates that use them still apply.
    former_names: ClassVar[dict[str, str]] = {
        "rag_collections": "collections",
        "runbook_collections": "collections",
    }

    collections: list[str] = Field(
        default_factory=list,
        description="Document collections to search (create them with `pipekit ingest SOURCE "
        "--collection NAME`). Empty: none.",
    )

    @model_validator(mode="before")
    @classmethod
    def _current_names(cls, data: Any) -> Any:
        return with_current_names(cls, data) if isinstance(data, dict) else data

    @field_validator("collections", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        """A comma-separated text, as typed in a text box, is a list too."""
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            stripped = [name.strip() if isinstance(name, str) else name for name in value]
            return [name for name in stripped if name != ""]
        return value


def with_current_names(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """Valves (saved or posted) with the model's former names replaced by the current ones; a
    value under the current name wins over one under a former name."""
    former = getattr(model, "former_names", {})
    current = {key: value for key, value in data.items() if key not in former}
    for old, new in former.items():
        if old in data:
            current.setdefault(new, data[old])
    return current
