"""`pipekit bench incident --json` as a user runs it: scripted model, fake cluster, real server."""

from __future__ import annotations

import json
import subprocess

from pipekit.testing.server import PIPEKIT


def test_bench_reports_evidence_and_root_cause_per_scenario():
    completed = subprocess.run(
        [*PIPEKIT, "bench", "incident", "--json", "--scenarios", "crashloop,healthy"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert {"scenarios", "evidence_recall", "root_cause_accuracy", "tool_latency_ms_p95"} <= set(
        result
    )
    assert result["model_kind"] == "scripted" and "plumbing" in result["note"]
    crashloop, healthy = result["scenarios"]
    assert crashloop["tools_called"] == ["pods_list", "events_list", "pods_log"]
    assert crashloop["evidence_gathered"] == {"events": True, "logs": True, "pods": True}
    assert crashloop["root_cause_named"] and "DATABASE_URL" in crashloop["answer_excerpt"]
    assert healthy["root_cause_named"] and "healthy" in healthy["answer_excerpt"]
    assert result["evidence_recall"] == 1.0 and result["root_cause_accuracy"] == 1.0
    assert result["tool_latency_ms_p95"] > 0


def test_unknown_scenario_is_refused_by_name():
    completed = subprocess.run(
        [*PIPEKIT, "bench", "incident", "--scenarios", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode != 0 and "unknown scenarios: nope" in completed.stderr
