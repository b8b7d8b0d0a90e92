"""Read the deployment files the way their tools do, without Docker or a cluster.

Compose: YAML with the `!reset`/`!override` tags, `${VAR}` interpolation, and the merge of an
override file onto the base (the parts of the compose merge rules these files use).
Dockerfile: instructions with their line continuations joined.
Kustomize: `kubectl kustomize` rendering, when kubectl is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support import REPO

DOCKER = REPO / "docker"
COMPOSE = DOCKER / "compose.yaml"
COMPOSE_CPU = DOCKER / "compose.cpu.yaml"
COMPOSE_SLACK_WRITES = DOCKER / "compose.slack-writes.yaml"
ENV_EXAMPLE = DOCKER / ".env.example"
DOCKERFILE = DOCKER / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
OPENSHIFT = DOCKER / "openshift"
DEPLOY_DOCS = REPO / "docs" / "deploy.md"


@dataclass(frozen=True)
class Reset:
    """`!reset`: the override removes the key from the merged file."""


@dataclass(frozen=True)
class Override:
    """`!override value`: the value replaces the base one instead of merging with it."""

    value: Any


class ComposeLoader(yaml.SafeLoader):
    pass


ComposeLoader.add_constructor("!reset", lambda loader, node: Reset())


def _override(loader: ComposeLoader, node: yaml.Node) -> Override:
    if isinstance(node, yaml.MappingNode):
        return Override(loader.construct_mapping(node, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return Override(loader.construct_sequence(node, deep=True))
    return Override(loader.construct_scalar(node))


ComposeLoader.add_constructor("!override", _override)


def load_compose(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=ComposeLoader)  # noqa: S506


# Lists compose replaces instead of appending to when an override file sets them.
_REPLACED_LISTS = {"command", "entrypoint", "test"}


def merge_compose(base: Any, override: Any, key: str = "") -> Any:
    """Compose's merge: mappings merge key by key, `!reset` removes, `!override` replaces,
    scalars and command-like lists replace, other lists append what is new."""
    if isinstance(override, Override):
        return override.value
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            if isinstance(value, Reset):
                merged.pop(name, None)
            elif name in merged:
                merged[name] = merge_compose(merged[name], value, name)
            else:
                merged[name] = value
        return merged
    if isinstance(base, list) and isinstance(override, list) and key not in _REPLACED_LISTS:
        return base + [item for item in override if item not in base]
    return override


# `$$` is a literal dollar; `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`.
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}")
_BARE_VARIABLE = re.compile(r"(?<!\$)\$(?=[A-Za-z_])")


def variables_in(text: str) -> set[str]:
    return {m.group("name") for m in _VARIABLE.finditer(text) if m.group("name")}


def bare_variables_in(text: str) -> list[str]:
    """`$NAME` without braces outside `$$`: easy to misread, so these files never use it."""
    without_escapes = text.replace("$$", "")
    matches = _BARE_VARIABLE.finditer(without_escapes)
    return [without_escapes[m.start() : m.start() + 30] for m in matches]


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Substitute variables the way compose does, with `env` as the .env file."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op") or "", match.group("arg")
        current = env.get(name)
        if op in (":-", ":?"):
            if current:
                return current
            if op == ":?":
                raise KeyError(f"{name} is required: {arg}")
            return arg
        if op == "-":
            return arg if current is None else current
        return current or ""

    return _VARIABLE.sub(substitute, value)


def read_env_file(path: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, value = line.partition("=")
        assert separator, f"{path.name}: not NAME=value: {line!r}"
        entries[name.strip()] = value.strip()
    return entries


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuations joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def kustomize(overlay: str) -> list[dict[str, Any]]:
    """Render docker/openshift/overlays/<overlay> with `kubectl kustomize` (offline)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        import pytest

        pytest.skip("kubectl is not installed: cannot render the kustomize overlays")
    result = subprocess.run(
        [kubectl, "kustomize", str(OPENSHIFT / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]
