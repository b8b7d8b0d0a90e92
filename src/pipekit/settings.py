"""Environment defaults that every valve falls back to.

A valve left empty means "use the environment", resolved at call time, so changing the
environment of a running deployment takes effect without editing saved valves.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_OLLAMA_URL = "http://localhost:11434"
DEFAULT_MODEL = "llama3.2:3b"
# The upstream server's well-known key: fine on loopback, refused elsewhere by `pipekit serve`.
WELL_KNOWN_API_KEY = "0p3n-w3bu!"


def ollama_base_url() -> str:
    """OLLAMA_BASE_URL, else OLLAMA_HOST (as the ollama CLI reads it), else localhost."""
    raw = os.getenv("OLLAMA_BASE_URL") or os.getenv("OLLAMA_HOST") or DEFAULT_OLLAMA_URL
    return normalize_host_url(raw, default_port=11434)


def normalize_host_url(raw: str, default_port: int) -> str:
    """Accept what people put in OLLAMA_HOST: `host`, `host:port`, `0.0.0.0`, or a full URL."""
    url = raw.strip().rstrip("/")
    bare = "://" not in url
    if bare:
        url = f"http://{url}"
    scheme, rest = url.split("://", 1)
    host_port, _, path = rest.partition("/")
    if host_port.startswith("0.0.0.0"):
        # A bind-all address is where a server listens, not where a client connects.
        host_port = "127.0.0.1" + host_port[len("0.0.0.0") :]
    if bare and ":" not in host_port.rsplit("]", 1)[-1]:
        # `gpu-box` means the server's own port; `https://ollama.example` means 443.
        host_port = f"{host_port}:{default_port}"
    return f"{scheme}://{host_port}" + (f"/{path}" if path else "")


def openai_base_url() -> str:
    return (os.getenv("OPENAI_BASE_URL") or os.getenv("OPENAI_API_BASE_URL") or "").rstrip("/")


def openai_api_key() -> str:
    return os.getenv("OPENAI_API_KEY", "")


def default_model() -> str:
    return os.getenv("PIPEKIT_MODEL") or DEFAULT_MODEL


def default_embedder_spec() -> str:
    """PIPEKIT_EMBEDDER (`local`, `local:MODEL` or `ollama:MODEL`), else `local`: a spec that
    `pipekit.embeddings.make_embedder` turns into an embedder."""
    return os.getenv("PIPEKIT_EMBEDDER", "").strip() or "local"


def data_dir() -> Path:
    """PIPEKIT_DATA_DIR, else the XDG data home: never the repo checkout."""
    configured = os.getenv("PIPEKIT_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    xdg = os.getenv("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "pipekit"
