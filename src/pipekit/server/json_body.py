"""Lone UTF-16 surrogates in request JSON, replaced before any route sees them.

JSON may carry `\\ud800` escapes without their pair. Python decodes them into strings that
cannot be encoded as UTF-8, so the first response that echoes the text (a filter's inlet
returns the body) fails inside the framework: a bare 500 and a dropped connection. Bodies
are buffered and rewritten only when they contain a surrogate escape at all (emoji sent by
ASCII-only JSON encoders do), and only re-encoded when a lone one is really there.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class LoneSurrogateScrub:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if _SURROGATE_ESCAPE.search(body):
            cleaned = _scrubbed(body)
            if cleaned is not None:
                messages = [{"type": "http.request", "body": cleaned, "more_body": False}]
                scope = {**scope, "headers": _with_length(scope["headers"], len(cleaned))}

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _scrubbed(body: bytes) -> bytes | None:
    """The body re-encoded with lone surrogates as U+FFFD, or None to leave it as sent."""
    try:
        data = json.loads(body)
    except ValueError:
        return None  # not JSON: the route reports that itself
    found = False

    def clean(value: Any) -> Any:
        nonlocal found
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                found = True
                return _LONE_SURROGATE.sub("\ufffd", value)
            return value
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, dict):
            return {clean(key): clean(item) for key, item in value.items()}
        return value

    cleaned = clean(data)
    return json.dumps(cleaned).encode() if found else None


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    kept = [(name, value) for name, value in headers if name != b"content-length"]
    return [*kept, (b"content-length", str(length).encode())]
