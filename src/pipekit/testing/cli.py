"""`pipekit fake-ollama`: a fake Ollama server, to try pipelines without a GPU."""

from __future__ import annotations

import argparse
import logging
import threading

from .fake_ollama import FakeOllama

log = logging.getLogger("pipekit.fake_ollama")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fake-ollama",
        help="Run a fake Ollama API server (scripted replies, real embeddings).",
        description=__doc__,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11434)
    parser.add_argument(
        "--reply", default=None, help="Fixed reply text (default: echo the user's message)."
    )
    parser.add_argument("--token-delay-ms", type=float, default=0.0, help="Pause per token.")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    fake = FakeOllama(
        host=args.host,
        port=args.port,
        models=None,  # any model name is accepted
        token_delay_s=args.token_delay_ms / 1000,
        default_reply=args.reply,
    )
    with fake:
        log.info("fake Ollama listening on %s (Ctrl-C to stop)", fake.url)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0
