"""Short-lived state every replica sees: in Redis when a Redis URL is set, else in memory.

Filters keep state between a request's inlet and its outlet (PII placeholder tables, block
notices), and the agents keep pages they read; behind a load balancer the outlet may land on
another replica. `SharedMap` keeps such entries in Redis (JSON, with the map's age limit as
the key's expiry) when `PIPEKIT_REDIS_URL` or `REDIS_URL` is set.

A Redis that does not answer must not stop a chat: the map then keeps entries in this
process (as without Redis), asks Redis again after RETRY_S, and reads both until the local
entries age out. `/pipekit/status` says Redis is unreachable meanwhile.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from typing import Any, TypeVar

from pipekit import settings

from .memory import ExpiringDict
from .urls import redacted

log = logging.getLogger(__name__)

V = TypeVar("V")
RETRY_S = 5.0
KEY_PREFIX = "pipekit"


class RedisLink:
    """One client per URL, and the pause after a failure, shared by every map."""

    def __init__(self, url: str) -> None:
        import redis  # only deployments that set a Redis URL load the client

        self.where = redacted(url)
        self.client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self.errors = redis.RedisError
        self.down_reason = ""
        self._down_until = 0.0
        self._warned_at = 0.0
        self._lock = threading.Lock()

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """The command's answer; RedisDown while Redis is (or has just been) unreachable."""
        if time.monotonic() < self._down_until:
            raise RedisDown(self.down_reason)
        try:
            return getattr(self.client, method)(*args, **kwargs)
        except self.errors as error:
            self._failed(error)
            raise RedisDown(self.down_reason) from error

    def check(self) -> str:
        """ "" when Redis answers a PING, else why not (ignores the pause: probes notice a
        recovery)."""
        self._down_until = 0.0
        try:
            self.call("ping")
        except RedisDown as error:
            return str(error)
        return ""

    def _failed(self, error: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            self.down_reason = f"Redis at {self.where} is not reachable ({error})"
            self._down_until = now + RETRY_S
            if now - self._warned_at < 60:
                return
            self._warned_at = now
        log.warning("%s: state kept in this process for now", self.down_reason)


class RedisDown(RuntimeError):
    pass


_LINKS: dict[str, RedisLink] = {}
_LINKS_LOCK = threading.Lock()


def redis_link(url: str | None = None) -> RedisLink | None:
    """The link to `url` (default: the configured Redis); None when no Redis is set."""
    url = settings.redis_url() if url is None else url.strip()
    if not url:
        return None
    with _LINKS_LOCK:
        link = _LINKS.get(url)
        if link is None:
            link = _LINKS[url] = RedisLink(url)
        return link


class SharedMap(ExpiringDict[V]):
    """`put`, `get` and `pop` of JSON values under string keys, gone after `max_age_s`: in
    Redis when one is set, else (and while it is down) in this process, bounded by
    `max_entries` too."""

    def __init__(self, namespace: str, max_entries: int, max_age_s: float) -> None:
        super().__init__(max_entries, max_age_s)
        self.namespace = namespace

    def put(self, key: str, value: V) -> None:
        seconds = max(1, math.ceil(self.max_age_s))
        if not self._redis("set", self._key(key), json.dumps(value), ex=seconds):
            super().put(key, value)

    def get(self, key: str) -> V | None:
        found = self._redis("get", self._key(key))
        return json.loads(found) if found else super().get(key)

    def pop(self, key: str) -> V | None:
        found = self._redis("getdel", self._key(key))
        local = super().pop(key)
        return json.loads(found) if found else local

    def _key(self, key: str) -> str:
        return f"{KEY_PREFIX}:{self.namespace}:{key}"

    def _redis(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Redis' answer, or None without Redis (or while it is down: this process serves)."""
        link = redis_link()
        if link is None:
            return None
        try:
            return link.call(method, *args, **kwargs)
        except RedisDown:
            return None
