"""`pipekit serve`: the upstream pipelines server with pipekit's pipelines, secured."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
from pathlib import Path

from pipekit import settings

from .assemble import AssembleError, assemble, bundled_source_dirs
from .body_limit import MB
from .upstream import UpstreamMissing

log = logging.getLogger("pipekit.serve")

# Shorter keys can be guessed over the network; loopback accepts any key.
MIN_PUBLIC_KEY_LENGTH = 16
GENERATE_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


class KeyRefused(ValueError):
    pass


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="Run the pipelines server (port 9099) with pipekit's pipelines and filters.",
        description=__doc__,
    )
    parser.add_argument("--host", default="127.0.0.1", help="Interface to listen on.")
    parser.add_argument("--port", type=int, default=9099, help="Port (Open WebUI expects 9099).")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="Valves, stores and the assembled pipelines folder. Default: $PIPEKIT_DATA_DIR "
        "or ~/.local/share/pipekit.",
    )
    parser.add_argument(
        "--extra-dir",
        type=Path,
        action="append",
        default=[],
        help="Another folder of pipeline scripts to serve (repeatable).",
    )
    parser.add_argument(
        "--no-bundled",
        action="store_true",
        help="Serve only the --extra-dir folders, not pipekit's own pipelines and filters.",
    )
    parser.add_argument(
        "--allow-default-key",
        action="store_true",
        help=f"Accept the well-known key {settings.WELL_KNOWN_API_KEY!r} on a non-loopback "
        "host. Anyone who knows it can read valves (with their API keys) and run pipelines.",
    )
    parser.add_argument(
        "--allow-remote-add",
        action="store_true",
        help="Let POST /pipelines/add download a pipeline from a URL and run it. Off: anyone "
        "with the key could make the server fetch internal URLs and run what they serve.",
    )
    parser.add_argument(
        "--max-body-mb",
        type=_positive_mb,
        default=settings.max_body_mb(),
        help="Refuse request bodies larger than this with 413. Default: $PIPEKIT_MAX_BODY_MB "
        f"or {settings.DEFAULT_MAX_BODY_MB:g}.",
    )
    parser.add_argument("--log-level", default="info", help="Log level of the server.")
    parser.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    data_dir = (args.data_dir or settings.data_dir()).expanduser().resolve()
    try:
        api_key, key_source = resolve_api_key()
        check_key_for_host(args.host, api_key, args.allow_default_key)
        sources = ([] if args.no_bundled else bundled_source_dirs()) + list(args.extra_dir)
        pipelines_dir = data_dir / "pipelines"
        scripts = assemble(sources, pipelines_dir)
    except (KeyRefused, AssembleError) as error:
        log.error("%s", error)
        return 2
    os.environ["PIPEKIT_DATA_DIR"] = str(data_dir)
    # Upstream logs every streamed chunk, message text included, at INFO on the root logger.
    os.environ.setdefault("GLOBAL_LOG_LEVEL", "WARNING")

    from .app import ServerConfig, build_app

    try:
        app = build_app(
            ServerConfig(
                pipelines_dir=pipelines_dir,
                api_key=api_key,
                max_body_bytes=int(args.max_body_mb * MB),
                allow_remote_add=args.allow_remote_add,
            )
        )
    except UpstreamMissing as error:
        log.error("%s", error)
        return 2
    logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    logging.getLogger("pipekit").setLevel(logging.DEBUG if args.verbose else logging.INFO)

    log.info(
        "pipekit serve: http://%s:%d (Open WebUI: add this URL + key as an OpenAI API connection)",
        _url_host(args.host),
        args.port,
    )
    log.info("API key: %s", key_source)
    log.info(
        "data dir: %s; pipelines folder: %s (%d scripts from %s)",
        data_dir,
        pipelines_dir,
        len(scripts),
        ", ".join(str(s) for s in sources) or "nowhere",
    )

    import uvicorn

    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def resolve_api_key() -> tuple[str, str]:
    """The key and where it came from: a file (secrets), the environment, or the default."""
    key_file = settings.pipelines_api_key_file()
    if key_file:
        try:
            key = Path(key_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise KeyRefused(f"Cannot read PIPELINES_API_KEY_FILE={key_file}: {error}") from error
        if not key:
            raise KeyRefused(f"PIPELINES_API_KEY_FILE={key_file} is empty.")
        return key, f"read from PIPELINES_API_KEY_FILE ({key_file})"
    key = settings.pipelines_api_key()
    if key:
        return key, "from PIPELINES_API_KEY"
    return settings.WELL_KNOWN_API_KEY, (
        f"the well-known default {settings.WELL_KNOWN_API_KEY!r}; set PIPELINES_API_KEY "
        "to your own before exposing this server"
    )


def check_key_for_host(host: str, api_key: str, allow_default_key: bool) -> None:
    if is_loopback(host):
        return
    if api_key == settings.WELL_KNOWN_API_KEY:
        if allow_default_key:
            return
        raise KeyRefused(
            f"Refusing to listen on {host} with the well-known key {api_key!r}: anyone on the "
            "network could read valves (and the API keys in them) and run pipelines. Set "
            f"PIPELINES_API_KEY to a secret of your own (generate one with {GENERATE_KEY}), "
            "listen on 127.0.0.1, or pass --allow-default-key if you really mean it."
        )
    if len(api_key) < MIN_PUBLIC_KEY_LENGTH:
        raise KeyRefused(
            f"Refusing to listen on {host} with a {len(api_key)}-character API key: on a "
            f"network address it must have at least {MIN_PUBLIC_KEY_LENGTH} characters, or it "
            f"can be guessed. Generate one with {GENERATE_KEY} and set it as PIPELINES_API_KEY "
            "(or in PIPELINES_API_KEY_FILE), or listen on 127.0.0.1."
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _positive_mb(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"want a number of MB above 0, such as 16, not {text!r}")
    return value


def _url_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host
