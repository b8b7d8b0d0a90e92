"""Whether each shared store answers, for `/pipekit/status` and the readiness route.

Only the stores this process is configured to use are asked; the embedded ones (files and
SQLite in the data dir, Milvus Lite) are reported as such and are always there.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from pipekit import settings

from .database import Database, shared_database
from .shared import RedisLink, redis_link
from .urls import redacted

MILVUS_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class StoreState:
    where: str  # a URL without credentials, or "data dir"
    reachable: bool
    error: str = ""


def store_states() -> dict[str, dict]:
    """{"database": …, "redis": …, "milvus": …}, each with `where`, `reachable`, `error`,
    asked at once (a store that does not answer costs its timeout once, not in turn)."""
    checks = {
        "database": lambda: _probed(shared_database(), "data dir"),
        "redis": lambda: _probed(redis_link(), "this process"),
        "milvus": _milvus,
    }
    with ThreadPoolExecutor(len(checks), thread_name_prefix="pipekit-health") as pool:
        futures = {name: pool.submit(check) for name, check in checks.items()}
    return {name: asdict(future.result()) for name, future in futures.items()}


def all_reachable(states: dict[str, dict]) -> bool:
    return all(state["reachable"] for state in states.values())


def _probed(store: Database | RedisLink | None, embedded: str) -> StoreState:
    """A configured store's answer to its probe; an embedded one is always there."""
    if store is None:
        return StoreState(embedded, True)
    error = store.check()
    return StoreState(store.where, not error, error)


_MILVUS: dict[str, object] = {}
_MILVUS_LOCK = threading.Lock()


def _milvus() -> StoreState:
    uri = settings.milvus_uri()
    if not uri:
        return StoreState("data dir (Milvus Lite)", True)
    where = redacted(uri)
    try:
        _milvus_client(uri).list_collections(timeout=MILVUS_TIMEOUT_S)
    except Exception as error:  # pymilvus raises its own and gRPC's errors
        with _MILVUS_LOCK:
            _MILVUS.pop(uri, None)  # connect afresh next time
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return StoreState(where, False, f"Milvus at {where} is not reachable ({reason})")
    return StoreState(where, True)


def _milvus_client(uri: str):
    from pymilvus import MilvusClient

    with _MILVUS_LOCK:
        client = _MILVUS.get(uri)
        if client is None:
            client = _MILVUS[uri] = MilvusClient(
                uri=uri, token=settings.milvus_token(), timeout=MILVUS_TIMEOUT_S
            )
        return client
