"""`pipekit fake-ollama`: a fake Ollama server, to try pipelines without a GPU."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from .fake_base import Reply
from .fake_ollama import FakeOllama

log = logging.getLogger("pipekit.fake_ollama")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fake-ollama",
        help="Run a fake Ollama API server (scripted replies, real embeddings).",
        description=__doc__ + " Any model name is accepted unless --models is given.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
    parser.add_argument("--port", type=int, default=11434, help="Port (0: a free one).")
    reply = parser.add_mutually_exclusive_group()
    reply.add_argument(
        "--reply", default=None, help="Fixed reply text (default: echo the user's message)."
    )
    reply.add_argument(
        "--tokens", type=int, default=None, help="Reply with exactly N tokens (benchmarks)."
    )
    parser.add_argument("--token-delay-ms", type=float, default=0.0, help="Pause per token.")
    parser.add_argument(
        "--models", default=None, help="Comma-separated model names to serve (default: any)."
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    models = [name.strip() for name in args.models.split(",")] if args.models else None
    default: str | Reply | None = args.reply
    if args.tokens is not None:
        default = Reply.tokens(args.tokens)
    fake = FakeOllama(
        host=args.host,
        port=args.port,
        models=models,
        token_delay_s=args.token_delay_ms / 1000,
        default_reply=default,
    )
    stopped = threading.Event()
    # `terminate()` from a test or a benchmark should stop it as cleanly as Ctrl-C.
    previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        with fake:
            log.info("fake Ollama listening on %s (Ctrl-C to stop)", fake.url)
            try:
                stopped.wait()
            except KeyboardInterrupt:
                pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    log.info("fake Ollama stopped")
    return 0
