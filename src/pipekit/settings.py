"""Every environment default, in one place: one small function a variable (or a few that go
together), each read when it is called.

A valve left empty means "use the environment", resolved at call time, so changing the
environment of a running deployment takes effect without editing saved valves. Code that
*sets* variables (the server exporting PIPEKIT_DATA_DIR for upstream, MCP credentials passed
to child processes, `${VAR}` in MCP configs) stays where it does so.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_OLLAMA_URL = "http://localhost:11434"
DEFAULT_MODEL = "llama3.2:3b"
DEFAULT_GUARD_MODEL = "llama-guard3:1b"
# The upstream server's well-known key: fine on loopback, refused elsewhere by `pipekit serve`.
WELL_KNOWN_API_KEY = "0p3n-w3bu!"
DEFAULT_PIPELINES_URL = "http://127.0.0.1:9099"
DEFAULT_MAX_BODY_MB = 16.0
# Where each search service lives when neither the valve nor the environment says otherwise.
DEFAULT_SEARXNG_URL = "http://searxng:8080"  # the docker compose service
DEFAULT_TAVILY_URL = "https://api.tavily.com"
DEFAULT_BRAVE_URL = "https://api.search.brave.com"
# How a new Milvus collection is indexed (and searched) unless a valve or argument says.
DEFAULT_MILVUS_INDEX_TYPE = "HNSW"
DEFAULT_HNSW_M = 16
DEFAULT_HNSW_EF_CONSTRUCTION = 200
DEFAULT_HNSW_EF = 64


# --- models -----------------------------------------------------------------------------------


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
    """OPENAI_BASE_URL, else OPENAI_API_BASE_URL (Open WebUI's name), else none."""
    return (os.getenv("OPENAI_BASE_URL") or os.getenv("OPENAI_API_BASE_URL") or "").rstrip("/")


def openai_api_key() -> str:
    """OPENAI_API_KEY: the OpenAI-compatible server's key."""
    return os.getenv("OPENAI_API_KEY", "")


def default_model() -> str:
    """PIPEKIT_MODEL, else llama3.2:3b: the model of a pipe whose `model` valve is empty."""
    return os.getenv("PIPEKIT_MODEL") or DEFAULT_MODEL


def guard_model() -> str:
    """PIPEKIT_GUARD_MODEL, else llama-guard3:1b: the guard filters' model."""
    return os.getenv("PIPEKIT_GUARD_MODEL", "").strip() or DEFAULT_GUARD_MODEL


def default_embedder_spec() -> str:
    """PIPEKIT_EMBEDDER (`local`, `local:MODEL` or `ollama:MODEL`), else `local`: a spec that
    `pipekit.embeddings.make_embedder` turns into an embedder."""
    return os.getenv("PIPEKIT_EMBEDDER", "").strip() or "local"


# --- state ------------------------------------------------------------------------------------


def data_dir() -> Path:
    """PIPEKIT_DATA_DIR, else the XDG data home (XDG_DATA_HOME): never the repo checkout."""
    configured = os.getenv("PIPEKIT_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    xdg = os.getenv("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "pipekit"


def milvus_uri() -> str:
    """MILVUS_URI: a Milvus server (e.g. http://milvus:19530); empty: Milvus Lite in the data
    dir."""
    return os.getenv("MILVUS_URI", "")


def milvus_token() -> str:
    """MILVUS_TOKEN: the Milvus server's token."""
    return os.getenv("MILVUS_TOKEN", "")


def milvus_index_type() -> str:
    """MILVUS_INDEX_TYPE (HNSW, IVF_FLAT or FLAT, any case), else HNSW: new collections' index."""
    return (os.getenv("MILVUS_INDEX_TYPE", "").strip() or DEFAULT_MILVUS_INDEX_TYPE).upper()


def milvus_hnsw_m() -> int:
    """MILVUS_HNSW_M, else 16: HNSW links per node, for new collections."""
    return _whole_number("MILVUS_HNSW_M", DEFAULT_HNSW_M)


def milvus_hnsw_ef_construction() -> int:
    """MILVUS_HNSW_EF_CONSTRUCTION, else 200: HNSW build breadth, for new collections."""
    return _whole_number("MILVUS_HNSW_EF_CONSTRUCTION", DEFAULT_HNSW_EF_CONSTRUCTION)


def milvus_hnsw_ef() -> int:
    """MILVUS_HNSW_EF, else 64: HNSW search breadth, for every search."""
    return _whole_number("MILVUS_HNSW_EF", DEFAULT_HNSW_EF)


def database_url() -> str:
    """PIPEKIT_DATABASE_URL: the PostgreSQL database every replica shares (valves, approvals,
    audit log, RAG catalog); empty: files and SQLite in the data dir."""
    return os.getenv("PIPEKIT_DATABASE_URL", "").strip()


def redis_url() -> str:
    """PIPEKIT_REDIS_URL, else REDIS_URL (Open WebUI's name): the Redis every replica shares
    (rate-limit windows, page cache, PII tables, block notices); empty: each process keeps
    its own."""
    return (os.getenv("PIPEKIT_REDIS_URL") or os.getenv("REDIS_URL") or "").strip()


# --- web search -------------------------------------------------------------------------------


def searxng_url() -> str:
    """SEARXNG_URL, else http://searxng:8080 (the docker compose service)."""
    return os.getenv("SEARXNG_URL") or DEFAULT_SEARXNG_URL


def tavily_base_url() -> str:
    """TAVILY_BASE_URL, else https://api.tavily.com."""
    return os.getenv("TAVILY_BASE_URL") or DEFAULT_TAVILY_URL


def tavily_api_key() -> str:
    """TAVILY_API_KEY: the Tavily key."""
    return os.getenv("TAVILY_API_KEY", "")


def brave_base_url() -> str:
    """BRAVE_BASE_URL, else https://api.search.brave.com."""
    return os.getenv("BRAVE_BASE_URL") or DEFAULT_BRAVE_URL


def brave_api_key() -> str:
    """BRAVE_API_KEY: the Brave Search subscription token."""
    return os.getenv("BRAVE_API_KEY", "")


# --- the pipelines server and its CLI ---------------------------------------------------------


def pipelines_api_key() -> str:
    """PIPELINES_API_KEY: the server's bearer key; empty: not set (the caller says what then)."""
    return os.getenv("PIPELINES_API_KEY", "").strip()


def pipelines_api_key_file() -> str:
    """PIPELINES_API_KEY_FILE: a file holding the key (a mounted secret); wins over the key."""
    return os.getenv("PIPELINES_API_KEY_FILE", "")


def pipelines_url() -> str:
    """PIPELINES_URL, else http://127.0.0.1:9099: the server `pipekit valves` talks to."""
    return os.getenv("PIPELINES_URL") or DEFAULT_PIPELINES_URL


def max_body_mb() -> str:
    """PIPEKIT_MAX_BODY_MB, else 16: the largest request body `pipekit serve` takes, as
    written (the command line checks it like its `--max-body-mb`)."""
    return os.getenv("PIPEKIT_MAX_BODY_MB", "").strip() or f"{DEFAULT_MAX_BODY_MB:g}"


# --- MCP servers ------------------------------------------------------------------------------


def mcp_token() -> str:
    """PIPEKIT_MCP_TOKEN: the bearer token pipekit's MCP servers require over HTTP/SSE (from
    the environment, never an argument, so it does not show in `ps`)."""
    return os.getenv("PIPEKIT_MCP_TOKEN", "")


def mcp_namespaces() -> str:
    """PIPEKIT_MCP_NAMESPACES: the OpenShift server's comma-separated namespace allow-list;
    empty: all the credentials allow."""
    return os.getenv("PIPEKIT_MCP_NAMESPACES", "")


def kubeconfig() -> str:
    """KUBECONFIG: the OpenShift server's kubeconfig; empty: ~/.kube/config, else in-cluster."""
    return os.getenv("KUBECONFIG", "")


def slack_bot_token() -> str:
    """SLACK_BOT_TOKEN: the Slack server's bot token (xoxb-…)."""
    return os.getenv("SLACK_BOT_TOKEN", "")


def slack_api_url() -> str:
    """SLACK_API_URL: the Slack Web API base URL; empty: Slack's own."""
    return os.getenv("SLACK_API_URL", "")


# --- maintainers' benchmarks ------------------------------------------------------------------


def guard_eval_dir() -> str:
    """PIPEKIT_GUARD_DATA: the folder holding the guard eval sets `pipekit bench guard` runs;
    empty: bench/guard in the source tree."""
    return os.getenv("PIPEKIT_GUARD_DATA", "")


def _whole_number(name: str, default: int) -> int:
    raw = os.getenv(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}.") from None
