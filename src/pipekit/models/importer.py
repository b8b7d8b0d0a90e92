"""`pipekit models import`: a GGUF file or a Hugging Face folder becomes an Ollama model.

Order matters for "nothing half-created": Ollama is asked first (reachable? name taken?),
then the folder is converted, the Modelfile written beside the GGUF, the blob uploaded (unless
Ollama has it) and the model created. A failure after the first write removes what this run
wrote, and a model Ollama made before failing.
"""

from __future__ import annotations

import logging
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .convert import convert, find_converter, is_hf_folder
from .gguf_info import ModelError, read_gguf
from .modelfile import ModelPlan, plan_model
from .ollama_api import OllamaModels, file_digest

log = logging.getLogger(__name__)

Say = Callable[[str], None]


@dataclass
class ImportOptions:
    name: str | None = None
    system: str | None = None
    num_ctx: int | None = None
    quantize: str | None = None
    force: bool = False
    dry_run: bool = False
    llama_cpp: Path | None = None  # llama.cpp's sources, for a Hugging Face folder
    python: str = sys.executable  # runs the converter: needs torch and transformers
    outtype: str = "f16"


def model_name(path: Path) -> str:
    """An Ollama model name from a file name: SmolLM2-135M.Q4_1.gguf -> smollm2-135m.q4_1."""
    stem = path.name.removesuffix(".gguf")
    return re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._") or "model"


def import_model(
    source: Path, options: ImportOptions, ollama: OllamaModels | None, say: Say
) -> ModelPlan:
    """Import one GGUF file or Hugging Face folder; with dry_run, only print the Modelfile."""
    hf = is_hf_folder(source)
    if not hf and not source.is_file():
        raise ModelError(
            f"{source} is neither a GGUF file nor a Hugging Face model folder (no config.json)."
        )
    name = options.name or model_name(source)
    existed = False
    if not options.dry_run:
        assert ollama is not None
        existed = ollama.exists(name)
        if existed and not options.force:
            raise ModelError(
                f"Ollama at {ollama.url} already has a model {name!r}: pass --force to replace "
                "it, or choose another --name."
            )
    written: list[Path] = []
    creating = False
    try:
        if hf:
            gguf_path = _converted(source, options, written)
        else:
            gguf_path = source
        plan = plan_model(
            read_gguf(gguf_path),
            name,
            system=options.system,
            num_ctx=options.num_ctx,
            quantize=options.quantize,
        )
        if options.dry_run:
            say(plan.modelfile().rstrip("\n"))
            return plan
        assert ollama is not None
        modelfile = gguf_path.with_name(gguf_path.name.removesuffix(".gguf") + ".Modelfile")
        _write_modelfile(modelfile, plan, written, say)
        digest = _upload(ollama, gguf_path, say)
        creating = True
        for line in ollama.create(plan.create_request(digest)):
            if line:
                say(line)
        say(f"created {name} in Ollama at {ollama.url}")
        return plan
    except BaseException:
        if creating and not existed:
            try:
                if ollama.delete(name):
                    log.info("removed the half-created model %s", name)
            except ModelError as error:
                log.warning("could not remove the half-created model %s: %s", name, error)
        for path in written:
            path.unlink(missing_ok=True)
        raise
    finally:
        if hf and options.dry_run:  # the vocab-only GGUF and its scratch folder
            for path in written:
                shutil.rmtree(path.parent, ignore_errors=True)


def import_folder(folder: Path, options: ImportOptions, ollama: OllamaModels, say: Say) -> int:
    """Every *.gguf in a drop folder, named after its file; existing models are kept unless
    --force. Returns how many failed."""
    files = sorted(folder.glob("*.gguf"))
    if not files:
        say(f"no .gguf files in {folder}: nothing to import")
        return 0
    failed = 0
    for path in files:
        name = model_name(path)
        if not options.force and not options.dry_run and ollama.exists(name):
            say(f"{name}: already in Ollama, kept (--force replaces it)")
            continue
        try:
            import_model(path, ImportOptions(**{**vars(options), "name": name}), ollama, say)
        except ModelError as error:
            failed += 1
            say(f"{name}: {error}")
    return failed


def _converted(folder: Path, options: ImportOptions, written: list[Path]) -> Path:
    converter = find_converter(options.llama_cpp)
    if options.dry_run:
        out = Path(tempfile.mkdtemp(prefix="pipekit-vocab-")) / f"{folder.name}.gguf"
    else:
        out = folder.parent / f"{folder.resolve().name}.gguf"
    written.append(out)
    return convert(
        folder,
        out,
        converter=converter,
        python=options.python,
        outtype=options.outtype,
        vocab_only=options.dry_run,
    )


def _write_modelfile(path: Path, plan: ModelPlan, written: list[Path], say: Say) -> None:
    text = plan.modelfile()
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        # A read-only drop folder still imports: the Modelfile goes to the log instead.
        say(f"could not write {path} ({error.strerror}); the Modelfile is:\n{text}")
        return
    written.append(path)
    say(f"wrote {path}")


def _upload(ollama: OllamaModels, path: Path, say: Say) -> str:
    size = path.stat().st_size
    with _bar(size, "hashing") as bar:
        digest = file_digest(path, bar.update)
    if ollama.has_blob(digest):
        say(f"Ollama already has {path.name} ({digest[:19]}…): not uploading it again")
        return digest
    with _bar(size, f"uploading {path.name}") as bar:
        ollama.upload_blob(path, digest, bar.update)
    return digest


def _bar(total: int, description: str) -> tqdm:
    return tqdm(
        total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=description,
        file=sys.stderr, leave=False,
    )  # fmt: skip
