"""A small in-process memory: bounded in entries and in age, thread-safe.

Filters keep per-chat state between an inlet and its outlet (PII placeholder tables, start
times, block notices). An outlet may never come (a stopped stream, another replica), so
every entry must also go away on its own: the least recently written and the stale go first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


class ExpiringDict(Generic[V]):
    def __init__(self, max_entries: int, max_age_s: float) -> None:
        # Public: a filter sets them from its valves before each use.
        self.max_entries = max_entries
        self.max_age_s = max_age_s
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: str, value: V) -> None:
        now = time.monotonic()
        with self._lock:
            self._items[key] = (now, value)
            self._items.move_to_end(key)
            while self._items and (
                len(self._items) > self.max_entries
                or next(iter(self._items.values()))[0] < now - self.max_age_s
            ):
                self._items.popitem(last=False)

    def get(self, key: str) -> V | None:
        with self._lock:
            return self._fresh(key, self._items.get(key))

    def pop(self, key: str) -> V | None:
        with self._lock:
            return self._fresh(key, self._items.pop(key, None))

    def _fresh(self, key: str, entry: tuple[float, V] | None) -> V | None:
        if entry is None:
            return None
        if time.monotonic() - entry[0] > self.max_age_s:
            self._items.pop(key, None)
            return None
        return entry[1]

    def __len__(self) -> int:
        return len(self._items)
