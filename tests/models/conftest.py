"""Small GGUF files written for each test, and `pipekit models` run as users run it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import gguf
import numpy as np
import pytest

from pipekit.testing.server import PIPEKIT

CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA3 = (
    "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{% endif %}"
)
# Gemma has no system role: it folds the system prompt into the first user turn.
GEMMA = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set first = messages[0]['content'] "
    "+ '\\n\\n' %}{% set rest = messages[1:] %}{% else %}{% set first = '' %}"
    "{% set rest = messages %}{% endif %}{% for message in rest %}"
    "{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
    "{{ '<start_of_turn>' + role + '\\n' + (first if loop.first else '') + message['content'] "
    "+ '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<start_of_turn>model\\n' }}{% endif %}"
)
TOKENS = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "<|eot_id|>", "hello", "world"]


def write_gguf(
    path: Path,
    *,
    architecture: str = "llama",
    context_length: int | None = 4096,
    chat_template: str | None = CHATML,
    eos: int = 4,
    eot: int | None = None,
    file_type: gguf.LlamaFileType = gguf.LlamaFileType.MOSTLY_F16,
    temperature: float | None = None,
) -> Path:
    """A tiny but valid GGUF: the metadata a test needs and one small tensor."""
    writer = gguf.GGUFWriter(path, architecture)
    writer.add_name(path.stem)
    writer.add_file_type(file_type)
    if context_length:
        writer.add_context_length(context_length)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(TOKENS)
    types = [gguf.TokenType.NORMAL] * len(TOKENS)
    for control in (1, 2, 3, 4, 5):
        types[control] = gguf.TokenType.CONTROL
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(eos)
    if eot is not None:
        writer.add_eot_token_id(eot)
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    if temperature is not None:
        writer.add_float32(gguf.Keys.General.SAMPLING_TEMP, temperature)
    writer.add_tensor("token_embd.weight", np.ones((len(TOKENS), 4), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def models_cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*PIPEKIT, "models", *args], capture_output=True, text=True, timeout=300, input=input
    )


@pytest.fixture
def tiny_gguf(tmp_path: Path) -> Path:
    return write_gguf(tmp_path / "tiny-chat.gguf")
