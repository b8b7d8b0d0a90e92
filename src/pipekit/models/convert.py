"""A Hugging Face model folder to GGUF, with llama.cpp's own converter.

`convert_hf_to_gguf.py` (with its `conversion/` package and `gguf-py`) ships only in
llama.cpp's sources — a git checkout, or the llama-cpp-python sdist's vendor/llama.cpp — never
in a wheel, so pipekit vendors nothing: it finds the script at run time.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from .gguf_info import ModelError

log = logging.getLogger(__name__)

CONVERTER = "convert_hf_to_gguf.py"
DEFAULT_SOURCES = Path.home() / ".cache" / "pipekit" / "llama.cpp"
GET_SOURCES = (
    "pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36 -d /tmp/llama && "
    "tar -xzf /tmp/llama/llama_cpp_python-0.3.36.tar.gz -C /tmp/llama && "
    f"mkdir -p {DEFAULT_SOURCES.parent} && "
    f"cp -r /tmp/llama/llama_cpp_python-0.3.36/vendor/llama.cpp {DEFAULT_SOURCES}"
)


def is_hf_folder(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file()


def find_converter(llama_cpp: Path | None = None) -> Path:
    """llama.cpp's converter in `llama_cpp` (a folder or the script), else the default place."""
    candidates = [llama_cpp] if llama_cpp else [DEFAULT_SOURCES]
    for candidate in candidates:
        script = candidate if candidate.name == CONVERTER else candidate / CONVERTER
        if script.is_file():
            return script
    raise ModelError(
        f"llama.cpp's {CONVERTER} was not found in {', '.join(map(str, candidates))}. It ships "
        "only in llama.cpp's sources (a git checkout, or the llama-cpp-python sdist): pass "
        f"--llama-cpp DIR, or put it where pipekit looks:\n  {GET_SOURCES}"
    )


def convert(
    folder: Path,
    out: Path,
    *,
    converter: Path,
    python: str = sys.executable,
    outtype: str = "f16",
    vocab_only: bool = False,
) -> Path:
    """Write `out` from the model in `folder`; nothing is left behind when it fails."""
    partial = out.with_name(out.name + ".partial")
    command = [python, str(converter), str(folder), "--outfile", str(partial), "--outtype", outtype]
    if vocab_only:  # enough metadata for a Modelfile, without writing the weights
        command.append("--vocab-only")
    log.info("converting %s to GGUF with %s", folder, converter)
    try:
        completed = subprocess.run(command, capture_output=True, text=True)
    except OSError as error:
        raise ModelError(
            f"cannot run {python} for the converter: {error}. Pass --python."
        ) from error
    if completed.returncode != 0:
        partial.unlink(missing_ok=True)
        output = (completed.stderr or completed.stdout).strip()
        hint = ""
        if "ModuleNotFoundError" in output:
            hint = (
                f" The converter needs torch, transformers, sentencepiece and safetensors in "
                f"{python}: pip install -r {converter.parent}/requirements/"
                "requirements-convert_hf_to_gguf.txt, or pass --python with a venv that has them."
            )
        raise ModelError(
            f"converting {folder} failed (exit {completed.returncode}):\n"
            f"{output[-2000:]}\n{hint}".rstrip()
        )
    partial.replace(out)
    return out
