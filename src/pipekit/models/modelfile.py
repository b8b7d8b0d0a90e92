"""The Modelfile an import writes, and the `/api/create` request that makes the same model."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .gguf_info import GGUFInfo, ModelError
from .template import role_template

# Ollama reserves KV cache for the whole num_ctx: a 128k default would take gigabytes for a
# chat that uses a few thousand tokens. Users who need more pass --num-ctx.
DEFAULT_NUM_CTX_CAP = 8192


@dataclass
class ModelPlan:
    """What `pipekit models import` creates: the GGUF, and what its metadata decided."""

    name: str
    gguf: GGUFInfo
    template: str | None  # Ollama's Go template; None: Ollama picks one from the GGUF
    template_note: str
    system: str
    parameters: dict[str, Any] = field(default_factory=dict)
    quantize: str | None = None

    def modelfile(self) -> str:
        info = self.gguf
        context = info.context_length or "unknown"
        lines = [
            f"# Modelfile for {self.name}, by `pipekit models import` from {info.path.name}",
            f"# architecture: {info.architecture}; trained context: {context}; "
            f"weights: {info.file_type}",
            f"# chat template: {self.template_note}",
        ]
        if self.quantize:
            lines.append(f"# quantized by Ollama to {self.quantize} on create")
        lines.append(f"FROM ./{info.path.name}")
        if self.template is not None:
            lines.append(f'TEMPLATE """{self.template}"""')
        if self.system:
            lines.append(f'SYSTEM """{self.system}"""')
        lines += parameter_lines(self.parameters)
        return "\n".join(lines) + "\n"

    def create_request(self, digest: str) -> dict[str, Any]:
        """Ollama's /api/create body (Ollama 0.5.5+): the blob by digest, then the rest."""
        request: dict[str, Any] = {
            "model": self.name,
            "files": {self.gguf.path.name: digest},
            "parameters": self.parameters,
            "stream": True,
        }
        if self.template is not None:
            request["template"] = self.template
        if self.system:
            request["system"] = self.system
        if self.quantize:
            request["quantize"] = self.quantize
        return request


def parameter_lines(parameters: dict[str, Any]) -> list[str]:
    """`PARAMETER key value` lines: one per item of a list (stop), strings quoted."""
    return [
        f"PARAMETER {key} {json.dumps(item, ensure_ascii=False) if isinstance(item, str) else item}"
        for key, value in parameters.items()
        for item in (value if isinstance(value, list) else [value])
    ]


def plan_model(
    info: GGUFInfo,
    name: str,
    *,
    system: str | None = None,
    num_ctx: int | None = None,
    quantize: str | None = None,
) -> ModelPlan:
    if quantize and not info.full_precision:
        raise ModelError(
            f"{info.path.name} is already quantized ({info.file_type}): Ollama quantizes only "
            "F32, F16 or BF16 weights. Drop --quantize, or import a full-precision GGUF."
        )
    trained = info.context_length
    if num_ctx and trained and num_ctx > trained:
        raise ModelError(
            f"--num-ctx {num_ctx} is more than the {trained} tokens {info.path.name} was "
            "trained for: the model would lose track past that. Use at most that."
        )
    roles = None
    if info.chat_template:
        roles = role_template(info.chat_template, info.bos_token, info.eos_token)
    if roles is not None:
        template, note = roles.go_template(), "converted from the GGUF's Jinja template"
        # The token that opens a user turn ends the answer too: a model that starts writing
        # the user's next message has finished its own.
        turn_openers = sorted(t for t in info.control_tokens if t and t in roles.prefixes["user"])
    elif info.chat_template:
        template, turn_openers = None, []
        note = (
            "left to Ollama, which matches the GGUF's Jinja template against the ones it "
            "knows (this one is not a plain per-role template pipekit can convert)"
        )
    else:
        template, turn_openers = None, []
        note = "the GGUF has none (a base model?): Ollama sends the prompt as it is"
    parameters: dict[str, Any] = {
        "num_ctx": num_ctx or min(trained or DEFAULT_NUM_CTX_CAP, DEFAULT_NUM_CTX_CAP)
    }
    stops = list(dict.fromkeys([*info.stop_tokens, *turn_openers]))
    if stops:
        parameters["stop"] = stops
    parameters.update(info.sampling)
    return ModelPlan(
        name=name,
        gguf=info,
        template=template,
        template_note=note,
        system=system if system is not None else (roles.default_system if roles else ""),
        parameters=parameters,
        quantize=quantize,
    )
