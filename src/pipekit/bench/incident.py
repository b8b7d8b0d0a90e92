"""`pipekit bench incident`: does the incident agent gather the evidence and name the cause?

The fake Kubernetes API (pipekit.testing.kubernetes) is loaded with the scenarios —
CrashLoopBackOff, OOMKilled, ImagePullBackOff, Pending for CPU, and a healthy namespace —
and pipekit's OpenShift MCP server runs against it as a stdio subprocess, as in production.
The incident pipe investigates each scenario's question; the audit log says which tools were
called and how long each took; the answer is checked for the root cause.

Without `--ollama-url` the model is `ScriptedIncidentModel`: it calls the tools in a fixed
order and builds its summary by rules from the tool output, so its accuracy measures the
plumbing (servers, client, loop, pipe), not a model. With `--ollama-url` a real model runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

EVIDENCE_TOOLS = {
    "pods": ("pods_list", "pods_get"),
    "events": ("events_list",),
    "logs": ("pods_log",),
}


@dataclass(frozen=True)
class Scenario:
    name: str
    namespace: str
    question: str
    evidence: tuple[str, ...]  # kinds of EVIDENCE_TOOLS a good investigation uses
    # Each group must be matched by one of its phrases (case-insensitive) in the answer.
    cause: tuple[tuple[str, ...], ...]


SCENARIOS = (
    Scenario(
        "crashloop",
        "shop",
        "The checkout pods in namespace shop keep restarting. What is wrong?",
        ("pods", "events", "logs"),
        (("crashloopbackoff", "crash"), ("database_url",)),
    ),
    Scenario(
        "oomkilled",
        "analytics",
        "report-worker in namespace analytics keeps restarting. Why?",
        ("pods", "events", "logs"),
        (("oomkilled", "out of memory", "memory limit"),),
    ),
    Scenario(
        "imagepull",
        "payments",
        "payments-api in namespace payments does not start. Why?",
        ("pods", "events"),
        (("imagepullbackoff", "errimagepull", "pull"), ("not found", "2.0.1-rc", "tag")),
    ),
    Scenario(
        "pending",
        "batch",
        "ml-trainer in namespace batch never starts. Why?",
        ("pods", "events"),
        (("insufficient cpu", "enough cpu", "not enough cpu"),),
    ),
    Scenario(
        "healthy",
        "web",
        "Is everything healthy in namespace web?",
        ("pods",),
        (("healthy", "no problem", "running and ready", "nothing is wrong"),),
    ),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ollama-url", help="A real Ollama server; default: the scripted stand-in model."
    )
    parser.add_argument("--model", help="Model name with --ollama-url (default: $PIPEKIT_MODEL).")
    parser.add_argument(
        "--scenarios",
        default=",".join(s.name for s in SCENARIOS),
        help="Comma-separated scenario names (default: all).",
    )
    parser.add_argument("--max-steps", type=int, default=8, help="Tool steps per scenario.")
    parser.add_argument(
        "--time-budget-s", type=float, default=300.0, help="Seconds per scenario (real models)."
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    from pipekit import settings
    from pipekit.incident.pipe import IncidentPipe
    from pipekit.testing.kubernetes import FakeKubernetes
    from pipekit.testing.scripted_incident import ScriptedIncidentModel

    wanted = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = set(wanted) - {s.name for s in SCENARIOS}
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    chosen = [s for s in SCENARIOS if s.name in wanted]
    scripted = not args.ollama_url
    model_server = ScriptedIncidentModel(models=None).start() if scripted else None
    base_url = model_server.url if model_server else args.ollama_url
    model = "scripted" if scripted else (args.model or settings.default_model())

    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pipekit-bench-incident-") as scratch:
        folder = Path(scratch)
        pipe = IncidentPipe(data_dir=folder / "incident")
        try:
            with FakeKubernetes() as cluster:
                kubeconfig = cluster.kubeconfig(folder / "kubeconfig")
                pipe.valves = pipe.Valves(
                    mcp_servers=json.dumps([_openshift(kubeconfig)]),
                    collections=[],
                    ollama_base_url=base_url,
                    model=model if not scripted else "llama3.2:3b",
                    temperature=0.0,
                    max_steps=args.max_steps,
                    time_budget_s=args.time_budget_s,
                    request_timeout_s=max(120.0, args.time_budget_s),
                    show_trace=False,
                )
                for scenario in chosen:
                    log.info("scenario %s", scenario.name)
                    results.append(_run_scenario(pipe, scenario))
            latencies = [
                entry["duration_ms"]
                for entry in pipe.stores()[1].entries()
                if entry["event"] == "call" and entry["duration_ms"] is not None
            ]
        finally:
            pipe.close()
            if model_server is not None:
                model_server.stop()

    count = len(results) or 1
    return {
        "benchmark": "incident",
        "model": model,
        "model_kind": "scripted" if scripted else "ollama",
        "note": (
            "Scripted model: fixed tool order and a rule-based summary of the tool output. "
            "Its scores measure the plumbing (MCP server, client, agent loop, pipe, evidence in "
            "the tool output), not a model's reasoning. Use --ollama-url for a real model."
            if scripted
            else "Real model via Ollama; scores vary with model, prompt and temperature."
        ),
        "scenarios": results,
        "evidence_recall": round(sum(r["evidence_recall"] for r in results) / count, 3),
        "root_cause_accuracy": round(sum(r["root_cause_named"] for r in results) / count, 3),
        "tool_calls": len(latencies),
        "tool_latency_ms_p50": _percentile(latencies, 50),
        "tool_latency_ms_p95": _percentile(latencies, 95),
        "python": sys.version.split()[0],
    }


def _run_scenario(pipe: Any, scenario: Scenario) -> dict[str, Any]:
    from pipekit.pipe.request import METADATA_KEY

    chat = f"bench-{scenario.name}"
    body = {
        "stream": True,
        METADATA_KEY: {"chat_id": chat, "user_id": "bench", "user": {"id": "bench"}},
    }
    messages = [{"role": "user", "content": scenario.question}]
    started = time.monotonic()
    items = list(pipe.pipe(scenario.question, "incident_agent", messages, body))
    seconds = time.monotonic() - started
    answer = "".join(item for item in items if isinstance(item, str))
    calls = [
        entry
        for entry in pipe.stores()[1].entries()
        if entry["chat"] == chat and entry["event"] == "call"
    ]
    called = [entry["tool"] for entry in calls]
    used = {kind for kind, tools in EVIDENCE_TOOLS.items() if set(tools) & set(called)}
    expected = set(scenario.evidence)
    lowered = answer.lower()
    named = all(any(phrase in lowered for phrase in group) for group in scenario.cause)
    return {
        "name": scenario.name,
        "namespace": scenario.namespace,
        "tools_called": called,
        "evidence_expected": sorted(expected),
        "evidence_gathered": {kind: kind in used for kind in sorted(expected)},
        "evidence_recall": round(len(expected & used) / len(expected), 3),
        "root_cause_named": named,
        "tool_errors": sum(entry["outcome"] != "ok" for entry in calls),
        "seconds": round(seconds, 2),
        "answer_excerpt": answer.strip()[:400],
    }


def _openshift(kubeconfig: Path) -> dict[str, Any]:
    return {
        "name": "openshift",
        "command": sys.executable,
        "args": ["-m", "pipekit.cli", "mcp", "openshift", "--kubeconfig", str(kubeconfig)],
        "timeout_s": 60,
    }


def _percentile(values: list[float], percent: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, math.ceil(percent / 100 * len(ordered)) - 1)
    return round(ordered[rank], 1)
