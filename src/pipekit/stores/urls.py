"""Store URLs as logs and messages may show them: never a user name or password."""

from __future__ import annotations

from urllib.parse import urlsplit


def redacted(url: str) -> str:
    """`redis://host:6379/0` or `postgresql://db:5432/pipekit`, without user or password."""
    try:
        parts = urlsplit(url.strip())
        if parts.scheme in ("unix", "sqlite"):
            return f"{parts.scheme}://{parts.path}"
        if parts.scheme and parts.hostname:
            port = f":{parts.port}" if parts.port else ""
            return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"
    except ValueError:
        pass
    return "(an unparsable URL)"  # a mistyped URL may hold the password anywhere
