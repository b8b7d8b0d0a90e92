"""Tools are typed functions: the docstring is the description, the hints are the schema.

The same `Tool` type carries built-in tools (web search, RAG, calculator) and tools listed
by MCP servers, so the agent loop treats them alike. A tool that changes something in the
world sets `writes=True`: the incident agent runs those only after the user approves.

A low layer: agents, mcp, rag and incident all build or run tools, so it imports none of them.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model


class ToolInputError(ValueError):
    """The model called a tool with arguments that do not fit its schema."""


@dataclass
class ToolResult:
    """What a tool gives back: text for the model, and events for the chat (e.g. sources)."""

    text: str
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments object
    run: Callable[..., Any]  # called with the validated arguments as keywords
    writes: bool = False
    server: str = ""  # the MCP server that offers it; empty for pipekit's own tools
    remote_name: str = ""  # its name on that server (the client may prefix or rename it)
    arguments_model: type[BaseModel] | None = None
    # Status line while it runs, formatted with the arguments: "Searching the web for {query}".
    progress: str = ""

    @property
    def origin(self) -> str:
        """Where the tool comes from, for logs and listings: `builtin` or `mcp:<server>`."""
        return f"mcp:{self.server}" if self.server else "builtin"

    def schema(self) -> dict[str, Any]:
        """The function schema both Ollama and OpenAI-compatible servers accept in `tools`."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        if self.arguments_model is None:
            return dict(arguments)
        try:
            return self.arguments_model(**arguments).model_dump()
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(arguments)'}: {e['msg']}"
                for e in error.errors()
            )
            raise ToolInputError(f"Invalid arguments for {self.name}: {problems}") from error

    def invoke(self, arguments: dict[str, Any]) -> ToolResult:
        """Validate, run, and return the result as text for the model (plus chat events)."""
        result = self.run(**self.validate(arguments))
        if isinstance(result, ToolResult):
            return result
        if isinstance(result, str):
            return ToolResult(result)
        return ToolResult(json.dumps(result, ensure_ascii=False, default=str))

    def progress_text(self, arguments: dict[str, Any]) -> str:
        if self.progress:
            try:
                return self.progress.format(**arguments)
            except (KeyError, IndexError, ValueError):
                pass
        return f"Calling {self.name}"


def tool(
    function: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    writes: bool = False,
    progress: str = "",
) -> Any:
    """Decorator (bare or with options) turning a typed function into a `Tool`."""

    def build(target: Callable[..., Any]) -> Tool:
        model = arguments_model(target)
        return Tool(
            name=name or target.__name__,
            description=_summary(target),
            parameters=_clean_schema(model.model_json_schema()),
            run=target,
            writes=writes,
            arguments_model=model,
            progress=progress,
        )

    return build(function) if function is not None else build


def arguments_model(function: Callable[..., Any]) -> type[BaseModel]:
    """A pydantic model of the function's parameters, described from its docstring's Args."""
    hints = get_type_hints(function)
    described = _argument_descriptions(function)
    fields: dict[str, Any] = {}
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        annotation = hints.get(parameter.name, str)
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[parameter.name] = (
            annotation,
            Field(default, description=described.get(parameter.name)),
        )
    return create_model(
        f"{function.__name__}_arguments",
        __config__=ConfigDict(extra="forbid"),
        **fields,
    )


def _summary(function: Callable[..., Any]) -> str:
    doc = inspect.getdoc(function) or ""
    summary = doc.split("\n\n", 1)[0]
    return " ".join(summary.split())


def _argument_descriptions(function: Callable[..., Any]) -> dict[str, str]:
    """`name: text` lines under an `Args:` heading (Google style)."""
    doc = inspect.getdoc(function) or ""
    match = re.search(r"^Args:\s*\n(.*?)(?:\n\S|\Z)", doc, re.S | re.M)
    if not match:
        return {}
    described: dict[str, str] = {}
    current = None
    for line in match.group(1).splitlines():
        entry = re.match(r"\s+(\w+)(?:\s*\([^)]*\))?:\s*(.*)", line)
        if entry and line.startswith(("    ", "  ")) and not line.startswith("        "):
            current = entry.group(1)
            described[current] = entry.group(2).strip()
        elif current and line.strip():
            described[current] += " " + line.strip()
    return described


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's titles: they cost prompt tokens and tell the model nothing."""
    schema = {key: value for key, value in schema.items() if key != "title"}
    schema["properties"] = {
        key: {k: v for k, v in value.items() if k != "title"}
        for key, value in schema.get("properties", {}).items()
    }
    return schema
