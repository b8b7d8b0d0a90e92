"""Container health check for the pipekit image: standard library only, fast to start.

Default: `GET http://127.0.0.1:9099/pipekit/status` with the bearer key, healthy on HTTP 200.
`--url http://127.0.0.1:9099/pipekit/ready`: healthy only while the shared stores (database,
Redis, Milvus) answer too; replicas' readiness probes use it.
The key is read the way `pipekit serve` reads it (PIPELINES_API_KEY_FILE, then
PIPELINES_API_KEY, then the well-known default), so it never appears in `docker inspect`.

`--mcp --url http://127.0.0.1:8811/mcp`: an MCP server is healthy when it answers HTTP at
all below 500. A bare GET on /mcp gets 4xx (no session, or 401 without PIPEKIT_MCP_TOKEN),
which proves the server is up; the MCP servers have no health route of their own.

Exit status 0 = healthy, 1 = unhealthy (what Docker's HEALTHCHECK expects).
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

PIPEKIT_STATUS_URL = "http://127.0.0.1:9099/pipekit/status"
WELL_KNOWN_API_KEY = "0p3n-w3bu!"  # pipekit.settings.WELL_KNOWN_API_KEY, without importing pipekit


def pipelines_api_key() -> str:
    key_file = os.getenv("PIPELINES_API_KEY_FILE")
    if key_file:
        return Path(key_file).read_text(encoding="utf-8").strip()
    return os.getenv("PIPELINES_API_KEY", "").strip() or WELL_KNOWN_API_KEY


def check(url: str, *, mcp: bool, timeout_s: float) -> tuple[bool, str]:
    """(healthy, what was seen)."""
    request = urllib.request.Request(url)
    token = os.getenv("PIPEKIT_MCP_TOKEN", "") if mcp else pipelines_api_key()
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, ValueError) as error:
        return False, f"{url} is not answering: {error}"
    if mcp:
        return status < 500, f"{url} answered HTTP {status}"
    if status == 401:
        return False, f"{url} refused the key (HTTP 401): check PIPELINES_API_KEY(_FILE)"
    return status == 200, f"{url} answered HTTP {status}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help=f"What to ask (default {PIPEKIT_STATUS_URL}).")
    parser.add_argument(
        "--mcp", action="store_true", help="Check an MCP server: any answer below 500 is healthy."
    )
    parser.add_argument("--timeout", type=float, default=4.0, help="Seconds to wait.")
    args = parser.parse_args(argv)
    if args.mcp and not args.url:
        parser.error("--mcp needs --url, e.g. http://127.0.0.1:8811/mcp")
    try:
        healthy, seen = check(args.url or PIPEKIT_STATUS_URL, mcp=args.mcp, timeout_s=args.timeout)
    except OSError as error:  # an unreadable key file
        healthy, seen = False, f"cannot read the key: {error}"
    # Docker keeps this line in `docker inspect` (State.Health.Log): say what was seen.
    print(("healthy: " if healthy else "unhealthy: ") + seen, file=sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
