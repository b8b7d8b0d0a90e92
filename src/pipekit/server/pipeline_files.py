"""Adding pipeline files over HTTP, without upstream's two holes.

Upstream's /pipelines/upload joins the client's file name to the pipelines folder, so
`../x.py` lands outside it; /pipelines/add downloads whatever URL the caller names (internal
services and cloud metadata endpoints included) and runs it as a pipeline. Here an upload
must be a plain `name.py`, and adding from a URL is off unless `--allow-remote-add` is given.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Annotated

from fastapi import FastAPI, File, HTTPException, UploadFile
from fastapi.routing import APIRoute

PLAIN_SCRIPT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\.py")


def install(
    app: FastAPI, upstream: ModuleType, pipelines_dir: Path, allow_remote_add: bool
) -> None:
    async def upload_pipeline(file: Annotated[UploadFile, File()]) -> dict:
        name = file.filename or ""
        if not PLAIN_SCRIPT_NAME.fullmatch(name):
            raise HTTPException(
                400,
                f"Cannot upload {name!r}: send one Python file with a plain name such as "
                "my_pipeline.py (letters, digits, '_' and '-', no folders).",
            )
        _write_atomically(pipelines_dir / name, file)
        await upstream.reload()
        return {"status": True, "detail": f"Pipeline uploaded as {name}"}

    async def refuse_remote_add() -> None:
        raise HTTPException(
            403,
            "Adding pipelines from a URL is off: the server would download and run whatever "
            "the URL serves. Upload the file (POST /pipelines/upload) or put it in the "
            "pipelines folder, or start the server with `pipekit serve --allow-remote-add`.",
        )

    routes = [("/pipelines/upload", upload_pipeline)]
    if not allow_remote_add:
        routes.append(("/pipelines/add", refuse_remote_add))
    # Ahead of upstream's routes of the same paths, which would otherwise match first.
    for prefix in ("", "/v1"):
        for path, endpoint in routes:
            app.router.routes.insert(0, APIRoute(prefix + path, endpoint, methods=["POST"]))


def _write_atomically(path: Path, upload: UploadFile) -> None:
    """Replace, never write through: a symlink at `path` is swapped, not followed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    with os.fdopen(handle, "wb") as destination:
        shutil.copyfileobj(upload.file, destination)
    os.replace(temporary, path)
