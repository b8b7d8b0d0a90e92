"""Request JSON checked before any route sees it: nesting depth capped, lone surrogates replaced.

JSON may carry `\\ud800` escapes without their pair. Python decodes them into strings that
cannot be encoded as UTF-8, so the first response that echoes the text (a filter's inlet
returns the body) fails inside the framework: a bare 500 and a dropped connection. Bodies
are buffered and rewritten only when they contain a surrogate escape at all (emoji sent by
ASCII-only JSON encoders do), and only re-encoded when a lone one is really there.

The same pass refuses JSON nested deeper than any request needs (422): deep enough, and
parsing or echoing it raises RecursionError inside a route, a bare 500. Only JSON bodies are
looked at: an uploaded pipeline script is multipart.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipekit.llm import scrub_surrogates

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(rb"[\[\]{}]")
# Chat bodies nest about 6 deep (messages, content parts, tool-call arguments); valves 3.
MAX_JSON_DEPTH = 64
_TOO_DEEP = json.dumps(
    {"detail": f"The JSON body is nested too deeply (more than {MAX_JSON_DEPTH} levels)."}
).encode()


class JsonBodyCheck:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        body = b"".join(message.get("body", b"") for message in messages)
        if _is_json(scope) and json_depth(body) > MAX_JSON_DEPTH:
            await _refuse_too_deep(send)
            return
        if _SURROGATE_ESCAPE.search(body):
            cleaned = _scrubbed(body)
            if cleaned is not None:
                messages = [{"type": "http.request", "body": cleaned, "more_body": False}]
                scope = {**scope, "headers": _with_length(scope["headers"], len(cleaned))}

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _is_json(scope: Scope) -> bool:
    content_type = dict(scope["headers"]).get(b"content-type", b"application/json")
    return b"json" in content_type.lower()


def json_depth(body: bytes) -> int:
    """How deep brackets nest in `body`, brackets inside strings not counted."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # too few brackets to be too deep: the common case costs two counts
    depth = deepest = 0
    for bracket in _BRACKET.findall(_JSON_STRING.sub(b"", body)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


async def _refuse_too_deep(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_TOO_DEEP)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _TOO_DEEP})


def _scrubbed(body: bytes) -> bytes | None:
    """The body re-encoded with lone surrogates as U+FFFD, or None to leave it as sent."""
    try:
        parsed = json.loads(body)
        cleaned = scrub_surrogates(parsed)
    except (ValueError, RecursionError):
        return None  # not JSON, or nested too deeply: the route reports that itself
    return None if cleaned is parsed else json.dumps(cleaned).encode()


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    kept = [(name, value) for name, value in headers if name != b"content-length"]
    return [*kept, (b"content-length", str(length).encode())]
