"""The base every pipekit filter stands on.

The pipelines server calls a filter's async `inlet` before the pipe and `outlet` after it.
Blocking work inside them would stall every chat on the server, so the checks run in a
worker thread. Background requests (title, tags) skip the checks by default. A check blocks
a message by raising `Blocked`: the server answers HTTP 500 with the message as `detail`,
which Open WebUI shows to the user in place of an answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import Field

from pipekit.pipe.base import front_matter_title
from pipekit.pipe.request import task_of
from pipekit.valves import FilterValves


class Blocked(Exception):
    """Stop this message; the text becomes the HTTP 500 `detail`."""


class BaseFilter:
    """Subclass it, nest `Valves(BaseFilter.Valves)`, override `check_inlet`/`check_outlet`."""

    class Valves(FilterValves):
        skip_background_tasks: bool = Field(
            True,
            description="Skip Open WebUI's background requests (title, tags, follow-ups).",
        )

    def __init__(self) -> None:
        self.type = "filter"
        title = front_matter_title(type(self))
        if title:
            self.name = title
        self.valves = self.Valves()

    async def inlet(self, body: dict, user: dict | None = None) -> dict:
        if self._skipped(body):
            return body
        return await asyncio.to_thread(self.check_inlet, body, user or {})

    async def outlet(self, body: dict, user: dict | None = None) -> dict:
        if self._skipped(body):
            return body
        return await asyncio.to_thread(self.check_outlet, body, user or {})

    def check_inlet(self, body: dict, user: dict) -> dict:
        return body

    def check_outlet(self, body: dict, user: dict) -> dict:
        return body

    def _skipped(self, body: dict) -> bool:
        return bool(task_of(body)) and self.valves.skip_background_tasks


def last_message(body: dict, role: str) -> dict | None:
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == role:
            return message
    return None


def replace_text(message: dict, new_text: str) -> None:
    """Set a message's text, keeping image parts when the content is a list of parts."""
    content: Any = message.get("content")
    if isinstance(content, list):
        others = [p for p in content if not (isinstance(p, dict) and p.get("type") == "text")]
        message["content"] = [{"type": "text", "text": new_text}, *others]
    else:
        message["content"] = new_text
