"""Assemble the one flat pipelines folder the server reads from several source folders.

The folder lives in the data dir, next to the valves the server saves in `<id>/valves.json`,
so valves survive restarts and upgrades. Files we copied are listed in a manifest: on the next
start we remove those whose source is gone, and never touch files users uploaded themselves.
"""

from __future__ import annotations

import filecmp
import json
import logging
import shutil
from pathlib import Path

import pipekit

log = logging.getLogger(__name__)

MANIFEST = ".pipekit-managed.json"


class AssembleError(ValueError):
    pass


def bundled_source_dirs() -> list[Path]:
    """`pipelines/` and `filters/`: inside the wheel, or at the root of a source checkout."""
    package = Path(pipekit.__file__).parent
    bundled = package / "bundled"
    root = bundled if bundled.is_dir() else package.parents[1]
    return [folder for folder in (root / "pipelines", root / "filters") if folder.is_dir()]


def assemble(sources: list[Path], target: Path) -> list[Path]:
    """Copy every `*.py` of the sources into target; return the files now managed there."""
    chosen: dict[str, Path] = {}
    for folder in sources:
        if not folder.is_dir():
            raise AssembleError(f"Pipelines source folder not found: {folder}")
        for script in sorted(folder.glob("*.py")):
            if script.name.startswith("_"):
                continue
            if script.name in chosen:
                raise AssembleError(
                    f"Two pipelines are named {script.name}: {chosen[script.name]} and {script}. "
                    "The server reads one flat folder, so file names must be unique."
                )
            chosen[script.name] = script

    target.mkdir(parents=True, exist_ok=True)
    manifest_path = target / MANIFEST
    previous = _read_manifest(manifest_path)
    for stale in previous - chosen.keys():
        (target / stale).unlink(missing_ok=True)
        log.info("removed %s: its source is gone", stale)
    for name, script in chosen.items():
        destination = target / name
        if not destination.exists() or not filecmp.cmp(script, destination, shallow=False):
            shutil.copy2(script, destination)
    manifest_path.write_text(json.dumps(sorted(chosen)), encoding="utf-8")
    return [target / name for name in sorted(chosen)]


def _read_manifest(path: Path) -> set[str]:
    try:
        return set(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return set()
