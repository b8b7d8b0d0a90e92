"""Bearer-key check in front of every route of pipekit's HTTP servers.

Upstream's pipelines server checks the key on /models and /pipelines* only; valves (which
hold API keys), filters and chat completions are open to anyone who reaches the port. This
ASGI middleware runs before any route, so nothing is reachable without the key. The MCP
servers put the same check in front of their HTTP transports: a low layer both can use.
"""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Receive, Scope, Send

_REFUSAL = json.dumps(
    {
        "detail": "Missing or wrong API key. Send 'Authorization: Bearer <key>' with the "
        "pipelines server's key (PIPELINES_API_KEY)."
    }
).encode()


class BearerKeyMiddleware:
    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self._key = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self._authorised(scope):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", b"Bearer"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _REFUSAL})
            return
        await self.app(scope, receive, send)

    def _authorised(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._key)
        return False
