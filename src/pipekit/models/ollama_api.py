"""Ollama's model API, as `pipekit models` uses it: blobs, create, show, list, delete.

Plain httpx rather than the `ollama` client: a blob upload needs the HEAD check and a
progress bar, and every failure must become one message that says what to do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from .gguf_info import ModelError

_CHUNK = 1024 * 1024
Progress = Callable[[int], None]


class OllamaModels:
    def __init__(self, base_url: str, timeout_s: float = 30.0) -> None:
        self.url = base_url.rstrip("/")
        # Uploads and creates of multi-GB files take minutes: only connecting is bounded.
        timeout = httpx.Timeout(timeout_s, read=None, write=None)
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def exists(self, name: str) -> bool:
        with self._errors():
            response = self._http.post("/api/show", json={"model": name})
        if response.status_code == 404:
            return False
        self._check(response, f"looking up {name}")
        return True

    def show(self, name: str) -> dict[str, Any]:
        with self._errors():
            response = self._http.post("/api/show", json={"model": name})
        if response.status_code == 404:
            raise ModelError(
                f"Ollama at {self.url} has no model {name!r} (see `pipekit models list`)."
            )
        self._check(response, f"showing {name}")
        return response.json()

    def list(self) -> list[dict[str, Any]]:
        with self._errors():
            response = self._http.get("/api/tags")
        self._check(response, "listing models")
        return response.json().get("models", [])

    def delete(self, name: str) -> bool:
        """Remove a model; False when there was none."""
        with self._errors():
            response = self._http.request("DELETE", "/api/delete", json={"model": name})
        if response.status_code == 404:
            return False
        self._check(response, f"deleting {name}")
        return True

    def has_blob(self, digest: str) -> bool:
        with self._errors():
            response = self._http.head(f"/api/blobs/{digest}")
        return response.status_code == 200

    def upload_blob(self, path: Path, digest: str, progress: Progress | None = None) -> None:
        def chunks() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    if progress:
                        progress(len(chunk))
                    yield chunk

        with self._errors():
            response = self._http.post(
                f"/api/blobs/{digest}",
                content=chunks(),
                headers={"Content-Length": str(path.stat().st_size)},
            )
        self._check(response, f"uploading {path.name}")

    def create(self, request: dict[str, Any]) -> Iterator[str]:
        """Create a model, yielding Ollama's status lines as they come."""
        with self._errors(), self._http.stream("POST", "/api/create", json=request) as response:
            if response.status_code != 200:
                response.read()
                self._check(response, f"creating {request['model']}")
            for line in response.iter_lines():
                if not line.strip():
                    continue
                message = json.loads(line)
                if message.get("error"):
                    raise ModelError(
                        self._explain(f"creating {request['model']}", message["error"])
                    )
                yield message.get("status", "")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise ModelError(
                f"Ollama is not reachable at {self.url} ({error}): is it running? Pass "
                "--ollama-url or set OLLAMA_BASE_URL."
            ) from error
        except httpx.TransportError as error:
            raise ModelError(
                f"the connection to Ollama at {self.url} broke ({type(error).__name__}: "
                f"{error}). Check the Ollama log, then run the command again."
            ) from error

    def _check(self, response: httpx.Response, doing: str) -> None:
        if response.status_code < 400:
            return
        try:
            detail = response.json().get("error") or response.text
        except ValueError:
            detail = response.text
        raise ModelError(self._explain(doing, f"HTTP {response.status_code}: {detail}"))

    def _explain(self, doing: str, detail: str) -> str:
        message = f"Ollama at {self.url} failed {doing}: {detail}"
        if "no space left" in detail.lower():
            message += (
                ". Its disk is full: free space where Ollama keeps models (OLLAMA_MODELS, "
                "the ollama-models volume in docker compose), e.g. `ollama rm` unused ones."
            )
        return message


def file_digest(path: Path, progress: Progress | None = None) -> str:
    """Ollama's blob name: sha256:<hex> of the file's bytes."""
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
            if progress:
                progress(len(chunk))
    return f"sha256:{hasher.hexdigest()}"
