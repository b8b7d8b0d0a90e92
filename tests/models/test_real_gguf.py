"""The import end to end with a real model: SmolLM2-135M's GGUF, and a Hugging Face folder
converted by llama.cpp's own converter (the real-model tier: scripts/install-real-model.sh)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pipekit.models.gguf_info import read_gguf
from pipekit.testing.fake_ollama import FakeOllama
from tests.support.go_template import render_ollama
from tests.support.real_model import (
    converter_python,
    go_binary,
    jinja_chat_prompt,
    llama_cpp_sources,
)

from .conftest import CHATML, models_cli

pytestmark = pytest.mark.real_model

TWO_TURNS = [
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "Paris."},
    {"role": "user", "content": "And of Korea?"},
]


def test_smollm2_imports_with_a_template_that_renders_as_llama_cpp_does(smollm2_gguf, tmp_path):
    gguf = tmp_path / smollm2_gguf.name
    gguf.symlink_to(smollm2_gguf)
    with FakeOllama(models=[]) as ollama:
        result = models_cli("import", str(gguf), "--name", "smollm2", "--ollama-url", ollama.url)
        assert result.returncode == 0, result.stderr
        created = ollama.created["smollm2"]

    info = read_gguf(smollm2_gguf)
    expected = jinja_chat_prompt(info.chat_template, TWO_TURNS, info.bos_token, info.eos_token)
    rendered = render_ollama(go_binary(), tmp_path, created.template, TWO_TURNS, created.system)
    assert rendered == expected
    assert rendered.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")
    assert created.parameters == {"num_ctx": 8192, "stop": ["<|im_end|>", "<|im_start|>"]}
    modelfile = gguf.with_name(gguf.name.removesuffix(".gguf") + ".Modelfile").read_text()
    assert f"FROM ./{gguf.name}" in modelfile and 'SYSTEM """You are a helpful' in modelfile


def test_the_go_template_of_a_chat_with_a_system_prompt_matches_too(smollm2_gguf, tmp_path):
    with FakeOllama(models=[]) as ollama:
        gguf = tmp_path / "smol.gguf"
        gguf.symlink_to(smollm2_gguf)
        assert models_cli("import", str(gguf), "--ollama-url", ollama.url).returncode == 0
        created = ollama.created["smol"]
    chat = [{"role": "system", "content": "Answer in one word."}, *TWO_TURNS]
    info = read_gguf(smollm2_gguf)
    expected = jinja_chat_prompt(info.chat_template, chat, info.bos_token, info.eos_token)
    assert render_ollama(go_binary(), tmp_path, created.template, chat, created.system) == expected


BUILD_HF_MODEL = r"""
import json, sys
from pathlib import Path
import sentencepiece as spm
import torch
from safetensors.torch import save_file

folder = Path(sys.argv[1])
folder.mkdir()
text = folder.parent / "corpus.txt"
text.write_text("\n".join(f"hello world number {i} from a tiny test model" for i in range(300)))
spm.SentencePieceTrainer.train(
    input=str(text), model_prefix=str(folder / "tokenizer"), vocab_size=64, model_type="bpe",
    user_defined_symbols=["<|im_start|>", "<|im_end|>"], minloglevel=2,
)
hidden, layers, vocab = 32, 2, 64
config = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": hidden,
    "intermediate_size": 64, "num_hidden_layers": layers, "num_attention_heads": 4,
    "num_key_value_heads": 4, "vocab_size": vocab, "max_position_embeddings": 2048,
    "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "bos_token_id": 1, "eos_token_id": 4,
    "torch_dtype": "float32", "tie_word_embeddings": False,
}
(folder / "config.json").write_text(json.dumps(config))
(folder / "tokenizer_config.json").write_text(json.dumps(
    {"chat_template": sys.argv[2], "bos_token": "<s>", "eos_token": "<|im_end|>"}
))
tensors = {"model.embed_tokens.weight": torch.randn(vocab, hidden), "lm_head.weight":
           torch.randn(vocab, hidden), "model.norm.weight": torch.ones(hidden)}
for i in range(layers):
    p = f"model.layers.{i}."
    for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
        tensors[p + f"self_attn.{name}.weight"] = torch.randn(hidden, hidden)
    tensors[p + "mlp.gate_proj.weight"] = torch.randn(64, hidden)
    tensors[p + "mlp.up_proj.weight"] = torch.randn(64, hidden)
    tensors[p + "mlp.down_proj.weight"] = torch.randn(hidden, 64)
    tensors[p + "input_layernorm.weight"] = torch.ones(hidden)
    tensors[p + "post_attention_layernorm.weight"] = torch.ones(hidden)
save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
"""


def test_a_hugging_face_folder_is_converted_with_llama_cpp_and_imported(tmp_path):
    python, sources = converter_python(), llama_cpp_sources()
    folder = tmp_path / "tiny-hf"
    subprocess.run([str(python), "-c", BUILD_HF_MODEL, str(folder), CHATML], check=True)
    convert_args = ["--llama-cpp", str(sources), "--python", str(python)]

    with FakeOllama(models=[]) as ollama:
        dry = models_cli("import", str(folder), "--dry-run", *convert_args)
        assert dry.returncode == 0, dry.stderr
        assert 'TEMPLATE """{{ range .Messages }}' in dry.stdout
        assert not (tmp_path / "tiny-hf.gguf").exists()  # a dry run leaves nothing behind

        result = models_cli(
            "import", str(folder), "--name", "tiny-hf", "--ollama-url", ollama.url,
            "--quantize", "q4_K_M", *convert_args,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        created = ollama.created["tiny-hf"]

    converted = read_gguf(tmp_path / "tiny-hf.gguf")
    assert (converted.architecture, converted.context_length) == ("llama", 2048)
    assert converted.full_precision and converted.chat_template == CHATML
    assert created.parameters["stop"] == ["<|im_end|>"]
    assert created.quantize == "q4_K_M"
    assert list(created.files) == ["tiny-hf.gguf"]
    assert "quantizing F16 model to Q4_K_M" in result.stdout
    assert json.loads((folder / "config.json").read_text())["eos_token_id"] == 4
    assert Path(tmp_path / "tiny-hf.Modelfile").is_file()
