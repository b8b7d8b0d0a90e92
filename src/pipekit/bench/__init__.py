"""`pipekit bench NAME --json`: benchmarks that print one JSON object.

A benchmark is a module `pipekit.bench.<name>` with `add_arguments(parser)` and
`run(args) -> dict`. The dict is printed as JSON on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

BENCHMARKS = {
    "overhead": "Time to first token and throughput added by the pipelines server and a pipe.",
    "guard": "Precision/recall/latency of the guardrail detectors on a JSONL eval set.",
    "rag": "Retrieval quality and speed of the RAG pipeline on a corpus and questions.",
    "scale": "Replica memory, first query and latency as a Milvus collection grows.",
    "agent": "Agent loop tool-call accuracy and per-step overhead.",
    "incident": "Incident agent evidence recall and root-cause accuracy on the fake cluster.",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    bench = subparsers.add_parser("bench", help="Run a benchmark and print JSON.")
    kinds = bench.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name, summary in BENCHMARKS.items():
        try:
            module = importlib.import_module(f"pipekit.bench.{name}")
        except ImportError:
            continue  # not built yet
        parser = kinds.add_parser(name, help=summary, description=summary)
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
        module.add_arguments(parser)
        parser.set_defaults(handler=_runner(module))


def _runner(module):
    def handle(args: argparse.Namespace) -> int:
        result = module.run(args)
        indent = None if args.json else 2
        json.dump(result, sys.stdout, indent=indent, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0

    return handle
