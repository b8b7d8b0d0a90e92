"""The `pipekit` command: serve, valves, bench, and the capability commands."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Each entry is "module:function"; the function registers a subcommand on the subparsers
# object. Modules are imported lazily so `pipekit --help` stays fast and a broken optional
# capability cannot stop `pipekit serve`.
SUBCOMMANDS = {
    "serve": "pipekit.server.cli:register",
    "migrate-state": "pipekit.migrate_state:register",
    "valves": "pipekit.valves.cli:register",
    "bench": "pipekit.bench:register",
    "fake-ollama": "pipekit.testing.cli:register",
    "mcp": "pipekit.mcp.cli:register",
    "ingest": "pipekit.rag.cli:register",
    "models": "pipekit.models.cli:register",
}


def build_parser(commands: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipekit", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="Debug logging.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, target in SUBCOMMANDS.items():
        if commands is not None and name not in commands:
            continue
        module_name, function_name = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            logging.getLogger(__name__).debug("subcommand %s unavailable: %s", name, error)
            continue
        getattr(module, function_name)(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    requested = [arg for arg in argv if not arg.startswith("-")][:1]
    # Only import the requested subcommand's module; all of them for --help.
    parser = build_parser(requested if requested and requested[0] in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One INFO line per HTTP request drowns what the command itself has to say.
    for noisy in ("httpx", "httpx2", "faiss", "milvus_lite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
