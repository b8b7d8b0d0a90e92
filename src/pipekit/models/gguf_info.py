"""What a GGUF file says about itself: architecture, context length, chat template, stop tokens.

Read with the `gguf` package (llama.cpp's own reader). Every way a file can be unusable — not a
GGUF, cut short, an architecture llama.cpp does not know — is a `ModelError` whose
message says which file and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gguf

# Ollama can only quantize from full-precision weights.
_FULL_PRECISION = {
    gguf.LlamaFileType.ALL_F32,
    gguf.LlamaFileType.MOSTLY_F16,
    gguf.LlamaFileType.MOSTLY_BF16,
}
# llama.cpp's recommended sampling (general.sampling.*) -> Ollama's PARAMETER names.
_SAMPLING = {
    gguf.Keys.General.SAMPLING_TEMP: "temperature",
    gguf.Keys.General.SAMPLING_TOP_K: "top_k",
    gguf.Keys.General.SAMPLING_TOP_P: "top_p",
    gguf.Keys.General.SAMPLING_MIN_P: "min_p",
    gguf.Keys.General.SAMPLING_PENALTY_REPEAT: "repeat_penalty",
    gguf.Keys.General.SAMPLING_PENALTY_LAST_N: "repeat_last_n",
}
# Token ids whose text ends a turn; Ollama stops on their strings.
_END_TOKENS = (
    gguf.Keys.Tokenizer.EOS_ID,
    gguf.Keys.Tokenizer.EOT_ID,
    gguf.Keys.Tokenizer.EOM_ID,
)


class ModelError(RuntimeError):
    """A models command cannot go on; the message says what failed and what to do."""


@dataclass
class GGUFInfo:
    path: Path
    architecture: str
    name: str
    context_length: int | None
    chat_template: str | None
    bos_token: str
    eos_token: str
    stop_tokens: list[str]
    control_tokens: set[str]
    file_type: str  # e.g. MOSTLY_Q4_1
    full_precision: bool
    sampling: dict[str, float | int] = field(default_factory=dict)


def read_gguf(path: Path) -> GGUFInfo:
    if not path.is_file():
        raise ModelError(f"{path} does not exist or is not a file.")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise ModelError(
            f"{path} is not a GGUF file (it starts with {magic!r}, not b'GGUF'). Convert a "
            "Hugging Face model by passing its folder instead."
        )
    try:
        reader = gguf.GGUFReader(path)
    except (ValueError, IndexError, OSError) as error:
        raise ModelError(
            f"{path} is truncated or damaged ({error}): copy or download it again."
        ) from error
    end = max((t.data_offset + t.n_bytes for t in reader.tensors), default=0)  # 0: vocab only
    if end > path.stat().st_size:
        raise ModelError(
            f"{path} is truncated: its tensors need {end} bytes, the file has "
            f"{path.stat().st_size}. Copy or download it again."
        )

    def value(key: str, default: Any = None) -> Any:
        found = reader.fields.get(key)
        return found.contents() if found is not None else default

    architecture = value(gguf.Keys.General.ARCHITECTURE)
    if architecture not in gguf.MODEL_ARCH_NAMES.values():
        raise ModelError(
            f"{path}: unknown architecture {architecture!r} (gguf {gguf_version()} knows "
            f"{len(gguf.MODEL_ARCH_NAMES)}, e.g. llama, qwen2, gemma3). Convert it with a "
            "newer llama.cpp, or check that the file is a language model."
        )
    tokens: list[str] = value(gguf.Keys.Tokenizer.LIST, [])
    types: list[int] = value(gguf.Keys.Tokenizer.TOKEN_TYPE, [])

    def token(key: str) -> str:
        index = value(key)
        return tokens[index] if isinstance(index, int) and 0 <= index < len(tokens) else ""

    stops = [token(key) for key in _END_TOKENS]
    file_type = value(gguf.Keys.General.FILE_TYPE)
    return GGUFInfo(
        path=path,
        architecture=architecture,
        name=value(gguf.Keys.General.NAME, "") or path.stem,
        context_length=value(gguf.Keys.LLM.CONTEXT_LENGTH.format(arch=architecture)),
        chat_template=value(gguf.Keys.Tokenizer.CHAT_TEMPLATE),
        bos_token=token(gguf.Keys.Tokenizer.BOS_ID),
        eos_token=token(gguf.Keys.Tokenizer.EOS_ID),
        stop_tokens=list(dict.fromkeys(stop for stop in stops if stop)),
        control_tokens={
            text
            for text, kind in zip(tokens, types, strict=False)
            if kind == gguf.TokenType.CONTROL
        },  # fmt: skip
        file_type=_file_type_name(file_type),
        full_precision=file_type in _FULL_PRECISION,
        sampling={name: value(key) for key, name in _SAMPLING.items() if value(key) is not None},
    )


def gguf_version() -> str:
    from importlib.metadata import version

    return version("gguf")


def _file_type_name(file_type: Any) -> str:
    try:
        return gguf.LlamaFileType(file_type).name
    except ValueError:
        return f"file type {file_type}"
