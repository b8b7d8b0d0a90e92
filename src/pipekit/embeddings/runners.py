"""The runner pool: offline model runs spread over the cores this process may use.

One single-threaded run on each core. A short text gains little from ONNX Runtime's threads
inside one run, and between runs they spin, in the way of everything else. On 2 cores,
MiniLM and bge-small side by side on one thread each embedded 17 FAQ chunks/s against 10-13
one after the other on two threads each, and read a question in 7.4 ms against 12.7 (p50;
p95 12.3 against 20.1) one after the other on one thread each.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

_RUNNERS: list[ThreadPoolExecutor] = []  # one pool per process, started on first use
_RUNNERS_LOCK = threading.Lock()


@functools.cache
def usable_cores() -> int:
    """The cores this process may run on, within its container's CPU limit: a pod limited to
    2 CPUs on a 64-core node gets 2 runners, not 64 that the kernel would throttle."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:  # macOS
        cores = os.cpu_count() or 1
    try:
        limit = cpu_limit(Path("/sys/fs/cgroup/cpu.max").read_text())
    except OSError:  # no cgroup v2 here: the affinity count stands
        limit = None
    return min(cores, limit) if limit else cores


def cpu_limit(cpu_max: str) -> int | None:
    """Whole CPUs in a cgroup v2 `cpu.max` ("150000 100000" → 2; "max 100000" → None), the
    file Docker's --cpus and a Kubernetes CPU limit write."""
    quota, _, period = cpu_max.strip().partition(" ")
    if not quota.isdigit() or not period.strip().isdigit() or not int(period):
        return None
    return max(1, math.ceil(int(quota) / int(period)))


def _runners() -> ThreadPoolExecutor:
    with _RUNNERS_LOCK:
        if not _RUNNERS:
            _RUNNERS.append(ThreadPoolExecutor(usable_cores(), thread_name_prefix="embed"))
        return _RUNNERS[0]


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Each call's result, the first run here and the rest on the runners. The calls are
    leaves (model runs, one model reading a question) that never wait on the runners
    themselves, so this cannot deadlock however many threads call it."""
    if len(calls) == 1:
        return [calls[0]()]
    futures = [_runners().submit(call) for call in calls[1:]]
    first = calls[0]()
    return [first, *(future.result() for future in futures)]
