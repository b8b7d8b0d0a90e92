"""Rate-limit filter: requests per minute and per hour, per user (and model), sliding window.

A request without a user (an API caller, an old client) is counted under the shared key
`anonymous`, never dropped and never a crash. If Redis is set but unreachable, each replica
limits in its own memory and tries Redis again after REDIS_RETRY_S (logged at most once a
minute), so a dead Redis does not add its connect timeout to every message.
"""

from __future__ import annotations

import logging
import threading
import time

from pydantic import Field

from pipekit import settings
from pipekit.filter import Blocked
from pipekit.guards import metrics
from pipekit.guards.filters.base import BlockingFilter
from pipekit.guards.filters.context import fill, user_key
from pipekit.guards.ratelimit import (
    Decision,
    MemoryLimiter,
    RedisUnavailable,
    Window,
    redis_limiter,
)
from pipekit.pipe.request import model_id

log = logging.getLogger(__name__)

NAME = "rate_limit"
REDIS_RETRY_S = 5.0


class RateLimitFilter(BlockingFilter):
    class Valves(BlockingFilter.Valves):
        priority: int = Field(
            -50, description="Filters run in ascending priority order: refuse before work."
        )
        requests_per_minute: int = Field(
            20, ge=0, le=1_000_000, description="Requests per user in any 60 s. 0: no limit."
        )
        requests_per_hour: int = Field(
            300, ge=0, le=10_000_000, description="Requests per user in any 3600 s. 0: no limit."
        )
        per_model: bool = Field(
            True,
            description="On: each model has its own limits per user. Off: one budget per user "
            "across all models.",
        )
        exempt_roles: list[str] = Field(
            default_factory=list,
            description="Open WebUI roles that are never limited, e.g. admin.",
        )
        redis_url: str = Field(
            "",
            description="Redis shared by several replicas, e.g. redis://:password@redis:6379/0. "
            "Empty: $PIPEKIT_REDIS_URL; if that is unset too, limits are kept in this process.",
        )
        redis_prefix: str = Field("pipekit:ratelimit", description="Prefix of the Redis keys.")
        message: str = Field(
            "⚠️ Rate limit reached: {limit} requests per {window}. Try again in {retry} s.",
            description="What the user reads when refused. {limit}, {window} (minute or "
            "hour) and {retry} (seconds until a request is allowed) are filled in.",
        )

    def __init__(self) -> None:
        super().__init__()
        self.memory = MemoryLimiter()
        self._redis_down_until = 0.0
        self._redis_warned_at = 0.0
        self._warn_lock = threading.Lock()

    def check_inlet(self, body: dict, user: dict) -> dict:
        valves = self.valves
        if user.get("role") in valves.exempt_roles:
            return body
        windows = [
            Window(seconds, limit, name)
            for seconds, limit, name in (
                (60, valves.requests_per_minute, "minute"),
                (3600, valves.requests_per_hour, "hour"),
            )
            if limit > 0
        ]
        if not windows:
            return body
        who = user_key(body, user)
        key = f"{who}:{model_id(body)}" if valves.per_model else who
        decision = self._hit(key, windows)
        if decision.allowed or decision.window is None:
            return body
        metrics.record_guard_action(NAME, "limited")
        log.info(
            "rate limited user=%s model=%s window=%s retry=%ds",
            who,
            model_id(body),
            decision.window.name,
            decision.retry_after_s,
        )
        raise Blocked(
            fill(
                valves.message,
                limit=decision.window.limit,
                window=decision.window.name,
                retry=decision.retry_after_s,
            )
        )

    def _hit(self, key: str, windows: list[Window]) -> Decision:
        url = self.valves.redis_url.strip() or settings.redis_url()
        if url and time.monotonic() >= self._redis_down_until:
            try:
                return redis_limiter(url, self.valves.redis_prefix).hit(key, windows)
            except RedisUnavailable as error:
                self._redis_failed(error)
        return self.memory.hit(key, windows)

    def _redis_failed(self, error: RedisUnavailable) -> None:
        now = time.monotonic()
        with self._warn_lock:
            self._redis_down_until = now + REDIS_RETRY_S
            if now - self._redis_warned_at < 60:
                return
            self._redis_warned_at = now
        log.warning("rate limits kept in this process's memory for now: %s", error)
