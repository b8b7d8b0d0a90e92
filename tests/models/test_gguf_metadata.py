"""What a GGUF says decides the Modelfile; a file that cannot be used is refused clearly."""

from __future__ import annotations

import gguf
import pytest

from pipekit.models.gguf_info import ModelError, read_gguf
from pipekit.models.modelfile import plan_model
from pipekit.models.template import render_jinja, role_template

from .conftest import CHATML, GEMMA, LLAMA3, write_gguf


def test_metadata_decides_stops_context_template_and_sampling(tmp_path):
    info = read_gguf(write_gguf(tmp_path / "m.gguf", eos=2, eot=4, temperature=0.6))
    plan = plan_model(info, "mine")

    assert (info.architecture, info.context_length) == ("llama", 4096)
    # EOS and EOT ids become their strings; the token that opens a user turn stops too.
    assert plan.parameters["stop"] == ["</s>", "<|im_end|>", "<|im_start|>"]
    assert plan.parameters["num_ctx"] == 4096
    assert plan.parameters["temperature"] == pytest.approx(0.6)
    modelfile = plan.modelfile()
    assert "FROM ./m.gguf\n" in modelfile
    assert 'TEMPLATE """{{ range .Messages }}' in modelfile
    assert 'PARAMETER stop "<|im_end|>"' in modelfile and "PARAMETER num_ctx 4096" in modelfile
    assert "SYSTEM" not in modelfile  # ChatML adds no default system prompt


def test_a_long_trained_context_is_capped_and_num_ctx_cannot_exceed_it(tmp_path):
    info = read_gguf(write_gguf(tmp_path / "long.gguf", context_length=131072))
    assert plan_model(info, "long").parameters["num_ctx"] == 8192
    assert plan_model(info, "long", num_ctx=32768).parameters["num_ctx"] == 32768
    short = read_gguf(write_gguf(tmp_path / "short.gguf", context_length=2048))
    with pytest.raises(ModelError, match="more than the 2048 tokens"):
        plan_model(short, "short", num_ctx=4096)


def test_system_option_replaces_the_templates_default(tmp_path):
    plan = plan_model(read_gguf(write_gguf(tmp_path / "m.gguf")), "m", system="Answer in Korean.")
    assert 'SYSTEM """Answer in Korean."""' in plan.modelfile()
    assert plan.create_request("sha256:" + "0" * 64)["system"] == "Answer in Korean."


def test_not_a_gguf_is_refused_by_its_magic_bytes(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 a zip, not a model")
    with pytest.raises(ModelError, match=r"not a GGUF file \(it starts with b'PK"):
        read_gguf(fake)


def test_a_truncated_file_is_refused(tmp_path):
    whole = write_gguf(tmp_path / "whole.gguf").read_bytes()
    for cut in (len(whole) - 8, 200):
        (tmp_path / "cut.gguf").write_bytes(whole[:cut])
        with pytest.raises(ModelError, match="truncated"):
            read_gguf(tmp_path / "cut.gguf")


def test_an_unknown_architecture_is_refused(tmp_path):
    with pytest.raises(ModelError, match="unknown architecture 'llamax'"):
        read_gguf(write_gguf(tmp_path / "x.gguf", architecture="llamax"))


def test_a_template_that_does_not_parse_is_refused(tmp_path):
    broken = write_gguf(tmp_path / "b.gguf", chat_template="{% for m in messages %}{{ m.content }")
    with pytest.raises(ModelError, match="does not parse"):
        plan_model(read_gguf(broken), "b")


def test_quantize_needs_full_precision_weights(tmp_path):
    quantized = write_gguf(tmp_path / "q.gguf", file_type=gguf.LlamaFileType.MOSTLY_Q4_0)
    with pytest.raises(ModelError, match=r"already quantized \(MOSTLY_Q4_0\)"):
        plan_model(read_gguf(quantized), "q", quantize="q4_K_M")
    full = plan_model(read_gguf(write_gguf(tmp_path / "f.gguf")), "f", quantize="q4_K_M")
    assert full.create_request("sha256:" + "0" * 64)["quantize"] == "q4_K_M"


@pytest.mark.parametrize("template", [CHATML, LLAMA3], ids=["chatml", "llama3"])
def test_per_role_templates_become_role_wrappers_that_render_the_same(template):
    roles = role_template(template, bos_token="<s>")
    assert roles is not None
    chat = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Bye"},
    ]
    assert roles.render(chat) == render_jinja(template, chat, bos_token="<s>")
    # Ollama's tokenizer adds BOS itself, so the wrappers keep it apart as `start`.
    assert roles.start == ("<s>" if template == LLAMA3 else "")


def test_a_template_that_is_not_per_role_is_left_to_ollama(tmp_path):
    assert role_template(GEMMA, bos_token="<bos>") is None
    plan = plan_model(read_gguf(write_gguf(tmp_path / "g.gguf", chat_template=GEMMA)), "g")
    assert plan.template is None and "TEMPLATE" not in plan.modelfile()
    assert "left to Ollama" in plan.modelfile()
    assert "template" not in plan.create_request("sha256:" + "0" * 64)


def test_a_model_without_a_chat_template_says_so(tmp_path):
    plan = plan_model(read_gguf(write_gguf(tmp_path / "base.gguf", chat_template=None)), "b")
    assert "the GGUF has none" in plan.modelfile() and plan.template is None
