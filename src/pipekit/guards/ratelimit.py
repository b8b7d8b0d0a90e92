"""Sliding-window rate limits: in this process's memory, or in Redis for several replicas.

A sliding-window log: each allowed request is a timestamp; a request is allowed when every
window holds fewer than its limit of timestamps younger than the window. Refused requests
are not recorded, so hammering does not push the reopening further away.

In Redis each (key, window) is a sorted set scored by time. One Lua script reads the
server's own clock (replicas' clocks may differ), drops expired entries, checks every window
and records the request only if all allow it, atomically: two replicas cannot both take the
last slot.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from pipekit.stores import redacted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    seconds: int
    limit: int
    name: str  # "minute", "hour": for the message


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: int = 0
    window: Window | None = None  # the window that refused


class Limiter(Protocol):
    def hit(self, key: str, windows: list[Window]) -> Decision: ...


class MemoryLimiter:
    """Per-process limits. Thread-safe; idle keys are swept so memory stays bounded."""

    SWEEP_EVERY = 1000

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._log: dict[tuple[str, int], deque[float]] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def hit(self, key: str, windows: list[Window]) -> Decision:
        now = self._clock()
        with self._lock:
            self._calls += 1
            if self._calls % self.SWEEP_EVERY == 0:
                self._sweep(now)
            wait, refused = 0.0, None
            for window in windows:
                times = self._trimmed(key, window, now)
                if len(times) >= window.limit:
                    until = times[len(times) - window.limit] + window.seconds - now
                    if until > wait:
                        wait, refused = until, window
            if refused is not None:
                return Decision(False, max(1, math.ceil(wait)), refused)
            for window in windows:
                self._log.setdefault((key, window.seconds), deque()).append(now)
            return Decision(True)

    def _trimmed(self, key: str, window: Window, now: float) -> deque[float]:
        times = self._log.get((key, window.seconds), deque())
        while times and times[0] <= now - window.seconds:
            times.popleft()
        return times

    def _sweep(self, now: float) -> None:
        for (key, seconds), times in list(self._log.items()):
            if not times or times[-1] <= now - seconds:
                del self._log[(key, seconds)]


# KEYS: one sorted set per window. ARGV: a unique member, then window ms and limit per key.
# Returns {0} when allowed, else {ms to wait, index of the refusing window (1-based)}.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait, refused = 0, 0
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 * i])
  local limit = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local nth = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local until_ms = tonumber(nth[2]) + window - now
    if until_ms > wait then wait, refused = until_ms, i end
  end
end
if refused > 0 then return {wait, refused} end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('PEXPIRE', key, tonumber(ARGV[2 * i]))
end
return {0}
"""


class RedisUnavailable(Exception):
    """Redis could not be asked; the message names the host, never the password."""


class RedisLimiter:
    def __init__(self, url: str, prefix: str = "pipekit:ratelimit") -> None:
        import redis  # only deployments that set a Redis URL need the client loaded

        self.where = redacted(url)
        self.prefix = prefix
        try:
            self._client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        except ValueError as error:
            raise RedisUnavailable(f"bad Redis URL {self.where}: {error}") from error
        self._script = self._client.register_script(_SCRIPT)
        self._errors = redis.RedisError

    def hit(self, key: str, windows: list[Window]) -> Decision:
        keys = [f"{self.prefix}:{key}:{w.seconds}" for w in windows]
        args: list[str | int] = [uuid.uuid4().hex]
        for window in windows:
            args += [window.seconds * 1000, window.limit]
        try:
            result = self._script(keys=keys, args=args)
        except self._errors as error:
            raise RedisUnavailable(f"Redis at {self.where}: {error}") from error
        if not result or int(result[0]) == 0:
            return Decision(True)
        wait_ms, index = int(result[0]), int(result[1])
        return Decision(False, max(1, math.ceil(wait_ms / 1000)), windows[index - 1])


@lru_cache(maxsize=8)
def redis_limiter(url: str, prefix: str) -> RedisLimiter:
    """One client (and connection pool) per URL and prefix, shared by every request."""
    return RedisLimiter(url, prefix)
