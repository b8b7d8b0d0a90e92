"""Load pipelines so that one bad file cannot take the server down.

Replaces upstream's start-up loader, which pip-installs front-matter requirements at every
load, moves a file that fails to import into `failed/` silently, and stops the whole server
when one pipeline's `on_startup` raises. Here each pipeline is imported, given its saved
valves and started on its own; a failure is logged with its reason, recorded in the load
report, and only that pipeline is skipped. Valves saved through another replica (or while
the database was down) are applied before the next request (`sync_valves`).
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio.to_thread
from pydantic import BaseModel, ValidationError

from pipekit.stores import StoreUnavailable
from pipekit.valves import with_current_names

from .valve_store import ValveStore, valve_store

log = logging.getLogger(__name__)

# Pipeline modules get their own namespace in sys.modules, so a file called `json.py` or
# `main.py` cannot shadow a real module, and classes can find their module (front-matter).
MODULE_PREFIX = "pipekit_loaded_pipeline_"


@dataclass
class LoadReport:
    loaded: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class PipelineLoader:
    def __init__(
        self, upstream: ModuleType, pipelines_dir: Path, valves: ValveStore | None = None
    ) -> None:
        self.upstream = upstream
        self.pipelines_dir = pipelines_dir
        self.valves = valves or valve_store(pipelines_dir)
        self.report = LoadReport()

    async def load_all(self) -> None:
        """Upstream's `on_startup`, made robust; `reload()` calls it too."""
        self.report = LoadReport()
        modules = self.upstream.PIPELINE_MODULES
        names = self.upstream.PIPELINE_NAMES
        for script in sorted(self.pipelines_dir.glob("*.py")):
            module_name = script.stem
            pipeline = self._import(module_name, script)
            if pipeline is None:
                continue
            self._apply_saved_valves(module_name, pipeline)
            if hasattr(pipeline, "on_startup"):
                try:
                    await pipeline.on_startup()
                except Exception as error:
                    self._fail(script.name, "on_startup", error)
                    continue
            pipeline_id = getattr(pipeline, "id", None) or module_name
            if pipeline_id in modules:
                self._fail(script.name, "register", ValueError(f"id {pipeline_id!r} is taken"))
                continue
            modules[pipeline_id] = pipeline
            names[pipeline_id] = module_name
            self.report.loaded.append(pipeline_id)
            log.info("loaded pipeline %s (%s)", pipeline_id, _kind(pipeline))
        self.upstream.PIPELINES = self.upstream.get_all_pipelines()
        self.upstream.app.state.PIPELINES = self.upstream.PIPELINES
        log.info("%d pipelines loaded, %d failed", len(self.report.loaded), len(self.report.failed))
        # Everything imported so far lives as long as the server: keep it out of the garbage
        # collector's full passes, which otherwise walk it during requests.
        gc.freeze()

    def _import(self, module_name: str, script: Path) -> Any | None:
        unique_name = MODULE_PREFIX + module_name
        try:
            spec = importlib.util.spec_from_file_location(unique_name, script)
            if spec is None or spec.loader is None:
                raise ImportError("not a Python module")
            module: ModuleType = importlib.util.module_from_spec(spec)
            sys.modules[unique_name] = module
            spec.loader.exec_module(module)
            if not hasattr(module, "Pipeline"):
                raise ImportError("the file defines no `class Pipeline`")
            return module.Pipeline()
        except BaseException as error:  # a SystemExit in a script must not stop the server
            sys.modules.pop(unique_name, None)
            self._fail(script.name, "import", error)
            return None

    def _apply_saved_valves(self, module_name: str, pipeline: Any) -> None:
        try:
            saved = self.valves.saved(module_name)
        except (ValueError, StoreUnavailable) as error:
            log.warning("valves of %s not applied: %s", module_name, error)
            return
        if saved is not None:
            apply_valves(module_name, pipeline, saved)

    async def sync_valves(self) -> None:
        """Apply valves saved elsewhere since this process last looked (another replica, or
        saves it missed while the database was down), as a valves update would."""
        if not self.valves.shared:
            return
        try:
            changes = await anyio.to_thread.run_sync(self.valves.changes)
        except StoreUnavailable:
            return  # /pipekit/status says so; the next request tries again
        pipeline_of = {module: id_ for id_, module in self.upstream.PIPELINE_NAMES.items()}
        for module, saved in changes.items():
            pipeline = self.upstream.PIPELINE_MODULES.get(pipeline_of.get(module))
            if pipeline is None:
                continue
            apply_valves(module, pipeline, saved)
            log.info("valves of %s changed elsewhere; applied", module)
            if hasattr(pipeline, "on_valves_updated"):
                try:
                    await pipeline.on_valves_updated()
                except Exception:
                    log.exception("on_valves_updated of %s failed", module)

    def _fail(self, file_name: str, stage: str, error: BaseException) -> None:
        reason = f"{type(error).__name__}: {error}"
        self.report.failed.append({"file": file_name, "stage": stage, "reason": reason})
        log.error("pipeline %s failed at %s and is skipped: %s", file_name, stage, reason)


def apply_valves(module_name: str, pipeline: Any, saved: dict[str, Any]) -> None:
    """Merge saved valves over the defaults; an invalid saved field falls back alone."""
    valves = getattr(pipeline, "valves", None)
    if not isinstance(valves, BaseModel):
        return
    saved = with_current_names(type(valves), saved)
    known = type(valves).model_fields
    merged = valves.model_dump()
    merged.update({key: value for key, value in saved.items() if key in known})
    for key in sorted(set(saved) - set(known)):
        log.warning("valves of %s: saved field %r no longer exists; ignored", module_name, key)
    try:
        pipeline.valves = type(valves)(**merged)
    except ValidationError as error:
        bad = {str(problem["loc"][0]) for problem in error.errors() if problem["loc"]}
        for key in sorted(bad):
            log.warning("valves of %s: saved %r is invalid; using the default", module_name, key)
            merged[key] = valves.model_dump()[key]
        pipeline.valves = type(valves)(**merged)


def _kind(pipeline: Any) -> str:
    return getattr(pipeline, "type", "pipe")
