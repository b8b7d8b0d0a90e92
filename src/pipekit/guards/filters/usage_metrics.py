"""Usage-metrics filter: requests, latency and tokens per user and model, for Prometheus.

The inlet counts the request and stamps its start under the answer's message id; the
outlet (same id, `id` in its body) observes the latency and the tokens. Tokens come from the
answer's `usage` when the model reported it, else they are estimated from the text (the
`source` label says which). Metric names: `pipekit.guards.metrics`.

With several replicas, an outlet that lands on another replica finds no stamp: its tokens
are still counted, its latency is not.
"""

from __future__ import annotations

import asyncio
import time
from typing import Literal

from pydantic import Field

from pipekit.guards import metrics
from pipekit.guards.filters.base import GuardFilter
from pipekit.guards.filters.context import answer_key, user_key
from pipekit.llm import text_of
from pipekit.pipe.request import model_id
from pipekit.stores import ExpiringDict


class UsageMetricsFilter(GuardFilter):
    skip_when_blocked = False  # a refused request is a request too

    class Valves(GuardFilter.Valves):
        priority: int = Field(
            -100,
            description="Filters run in ascending priority order: -100 counts every request, "
            "including those a later filter refuses.",
        )
        metrics_port: int = Field(
            0,
            ge=0,
            le=65535,
            description="Serve Prometheus metrics at http://metrics_host:metrics_port/metrics "
            "(e.g. 9464). 0: no port of its own.",
        )
        metrics_host: str = Field(
            "127.0.0.1",
            description="Address the metrics port listens on; 0.0.0.0 for a Prometheus "
            "outside this host or container.",
        )
        user_label: Literal["id", "email", "name", "none"] = Field(
            "id",
            description="What the `user` label holds: the Open WebUI user id, email or name, "
            "or 'none' (one series for all users, fewer time series).",
        )

    def __init__(self) -> None:
        super().__init__()
        # Start times by answer id, until the outlet (or an hour) comes.
        self.stamps: ExpiringDict[metrics.Stamp] = ExpiringDict(10_000, 3600.0)

    # Moving or stopping the port waits up to 0.5 s for its server thread: not on the loop.
    async def on_startup(self) -> None:
        await asyncio.to_thread(
            metrics.serve_metrics, self.valves.metrics_host, self.valves.metrics_port
        )

    async def on_valves_updated(self) -> None:
        await self.on_startup()

    async def on_shutdown(self) -> None:
        await asyncio.to_thread(metrics.serve_metrics, self.valves.metrics_host, 0)

    def check_inlet(self, body: dict, user: dict) -> dict:
        model, who = model_id(body), self._user_label(body, user)
        metrics.REQUESTS.labels(model=model, user=who).inc()
        key = answer_key(body, user)
        if key:
            self.stamps.put(key, metrics.Stamp(time.monotonic(), model, who))
        return body

    def check_outlet(self, body: dict, user: dict) -> dict:
        key = answer_key(body, user)
        stamp = self.stamps.pop(key) if key else None
        if stamp is not None:
            model, who = stamp.model, stamp.user
            metrics.LATENCY.labels(model=model).observe(time.monotonic() - stamp.started)
        else:
            model, who = model_id(body), self._user_label(body, user)
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        answer = messages[-1] if messages and messages[-1].get("role") == "assistant" else None
        if answer is None:
            return body
        info = answer.get("info")
        usage = answer.get("usage") or (info.get("usage") if isinstance(info, dict) else None)
        prompt, completion = metrics.reported_tokens(usage)
        counts = {
            "prompt": (prompt, " ".join(text_of(m) for m in messages[:-1])),
            "completion": (completion, text_of(answer)),
        }
        for direction, (reported, text) in counts.items():
            source = "reported" if reported is not None else "estimated"
            value = reported if reported is not None else metrics.estimate_tokens(text)
            metrics.TOKENS.labels(model=model, user=who, direction=direction, source=source).inc(
                value
            )
        return body

    def _user_label(self, body: dict, user: dict) -> str:
        choice = self.valves.user_label
        if choice == "none":
            return "all"
        if choice in ("email", "name") and isinstance(user.get(choice), str) and user[choice]:
            return user[choice]
        return user_key(body, user)
