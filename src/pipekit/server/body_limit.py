"""A cap on request bodies, enforced before they are buffered.

Routes and middleware here read whole bodies into memory, so without a cap one client can
make the server hold any amount. A declared Content-Length over the cap is answered 413
before a byte of the body is read; a chunked body is counted as it arrives and refused as
soon as it passes the cap. Plain ASGI: a BaseHTTPMiddleware would buffer the body itself.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MB = 1024 * 1024


class BodyTooLarge(HTTPException):
    """Raised from `receive`: a route that is reading the body answers it with its 413
    (FastAPI passes HTTPExceptions through), otherwise BodySizeLimit does."""


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refusal = (
            f"The request body is larger than this server's limit of {max_bytes / MB:g} MB. "
            "Send less, or raise the limit: pipekit serve --max-body-mb (PIPEKIT_MAX_BODY_MB)."
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        response_started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLarge(413, self.refusal)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if not response_started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    # The rest of the body is never read: end the connection rather than
                    # parse it as the next request.
                    (b"connection", b"close"),
                ],
            }
        )
        await send(
            {"type": "http.response.body", "body": json.dumps({"detail": self.refusal}).encode()}
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
