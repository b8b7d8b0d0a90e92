"""`pipekit models import|list|show|rm`: bring your own model into Ollama."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from pipekit import settings

from .gguf_info import ModelError
from .importer import ImportOptions, import_folder, import_model
from .ollama_api import OllamaModels


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser(
        "models",
        help="Import GGUF or Hugging Face models into Ollama; list, show, remove them.",
        description=__doc__,
    )
    commands = models.add_subparsers(dest="models_command", metavar="COMMAND", required=True)

    imports = commands.add_parser(
        "import",
        help="Import a .gguf file, a Hugging Face model folder, or a folder of .gguf files.",
        description="The GGUF's own metadata decides the Modelfile (chat template, stop tokens, "
        "context length); it is written beside the GGUF, then the model is created in Ollama. "
        "A folder of .gguf files imports each under its file's name, keeping existing models.",
    )
    imports.add_argument("source", type=Path, help=".gguf file, HF folder, or a drop folder.")
    imports.add_argument("--name", help="Ollama model name (default: from the file name).")
    imports.add_argument("--system", help="System prompt (default: the template's own, if any).")
    imports.add_argument(
        "--num-ctx", type=int, help="Context window (default: the model's, ≤8192)."
    )
    imports.add_argument("--quantize", help="Have Ollama quantize F16/F32 weights, e.g. q4_K_M.")
    imports.add_argument("--force", action="store_true", help="Replace a model of that name.")
    imports.add_argument(
        "--dry-run", action="store_true", help="Print the Modelfile; upload and create nothing."
    )
    imports.add_argument(
        "--llama-cpp", type=Path,
        help="llama.cpp sources holding convert_hf_to_gguf.py (for a Hugging Face folder).",
    )  # fmt: skip
    imports.add_argument(
        "--python", default=sys.executable,
        help="Python that runs the converter (needs torch, transformers, sentencepiece).",
    )  # fmt: skip
    imports.add_argument(
        "--outtype", default="f16", choices=["f32", "f16", "bf16", "q8_0"],
        help="Weights of a converted folder (then --quantize for smaller ones).",
    )  # fmt: skip
    imports.set_defaults(handler=_run_import)

    listing = commands.add_parser("list", help="The models Ollama has.")
    listing.set_defaults(handler=_run_list)
    show = commands.add_parser("show", help="A model's Modelfile and details.")
    show.add_argument("name")
    show.set_defaults(handler=_run_show)
    remove = commands.add_parser("rm", help="Remove a model from Ollama.")
    remove.add_argument("name")
    remove.set_defaults(handler=_run_remove)
    for command in (imports, listing, show, remove):
        command.add_argument(
            "--ollama-url",
            help=f"Ollama URL (default: $OLLAMA_BASE_URL, else {settings.DEFAULT_OLLAMA_URL}).",
        )


def _ollama(args: argparse.Namespace) -> OllamaModels:
    raw = args.ollama_url or settings.ollama_base_url()
    return OllamaModels(settings.normalize_host_url(raw, default_port=11434))


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _guarded(run):
    def handler(args: argparse.Namespace) -> int:
        ollama = _ollama(args)
        try:
            return run(args, ollama) or 0
        except ModelError as error:
            sys.stderr.write(f"pipekit models: {error}\n")
            return 1
        finally:
            ollama.close()

    return handler


@_guarded
def _run_import(args: argparse.Namespace, ollama: OllamaModels) -> int:
    # Every option has the name of its flag.
    options = ImportOptions(
        **{field.name: getattr(args, field.name) for field in fields(ImportOptions)}
    )
    source: Path = args.source
    if source.is_dir() and not (source / "config.json").is_file():
        if args.name:
            raise ModelError("--name names one model: a folder of .gguf files uses file names.")
        return 1 if import_folder(source, options, ollama, _say) else 0
    import_model(source, options, ollama, _say)
    return 0


@_guarded
def _run_list(args: argparse.Namespace, ollama: OllamaModels) -> int:
    for model in ollama.list():
        details = model.get("details") or {}
        size_gb = (model.get("size") or 0) / 1e9
        _say(
            f"{model.get('name')}\t{size_gb:.2f} GB\t{details.get('family', '')}\t"
            f"{details.get('quantization_level', '')}\t{model.get('modified_at', '')}"
        )
    return 0


@_guarded
def _run_show(args: argparse.Namespace, ollama: OllamaModels) -> int:
    shown = ollama.show(args.name)
    details = shown.get("details") or {}
    _say(f"# {args.name}: {details.get('family', '?')} {details.get('parameter_size', '')} "
         f"{details.get('quantization_level', '')}; capabilities: "
         f"{', '.join(shown.get('capabilities') or []) or '?'}")  # fmt: skip
    _say(shown.get("modelfile", "").rstrip("\n"))
    return 0


@_guarded
def _run_remove(args: argparse.Namespace, ollama: OllamaModels) -> int:
    if not ollama.delete(args.name):
        raise ModelError(f"Ollama at {ollama.url} has no model {args.name!r}.")
    _say(f"removed {args.name}")
    return 0
