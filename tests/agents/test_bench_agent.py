"""`pipekit bench agent`: the JSON it prints, scripted and against a model that calls no tools."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pipekit.bench.agent import match_calls
from pipekit.testing.fake_ollama import FakeOllama
from pipekit.testing.server import PIPEKIT

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "bench" / "agent" / "scenarios.yaml"


def bench(*args: str) -> dict:
    result = subprocess.run(
        [*PIPEKIT, "bench", "agent", "--scenarios", str(SCENARIOS), "--json", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_scripted_run_reports_accuracy_and_overhead():
    report = bench("--repeat", "2")
    assert report["mode"] == "scripted"
    assert report["scenarios"] == 6 and report["runs"] == 12
    assert report["tool_call_accuracy"] == 1.0
    assert report["answer_accuracy"] == 1.0
    assert report["failed_tool_calls"] == 0
    assert report["overhead_ms_per_step_p50"] > 0
    by_id = {entry["id"]: entry for entry in report["per_scenario"]}
    assert by_id["search-then-read"]["calls"][1].startswith('fetch_page({"url": "http://127.0.0.1')
    assert by_id["search-then-read"]["steps"] == 3


def test_a_model_that_never_calls_tools_scores_only_the_no_tool_scenario():
    with FakeOllama(models=None, default_reply="안녕하세요") as model:
        report = bench("--ollama-url", model.url, "--model", "some-model:1b")
    assert report["mode"] == "ollama" and report["model"] == "some-model:1b"
    assert report["runs"] == 6
    assert report["tool_call_accuracy"] == round(1 / 6, 3)
    assert report["expected_call_recall"] == 0.0


def test_calls_match_on_name_and_key_argument_text():
    expected = [
        {"name": "web_search", "arguments": {"query": "Python 3.13"}},
        {"name": "fetch_page", "arguments": {"url": "python-313"}},
    ]
    actual = [
        {"name": "web_search", "arguments": {"query": "python 3.13 release", "max_results": 3}},
        {"name": "fetch_page", "arguments": {"url": "http://x/python-313.html"}},
        {"name": "calculator", "arguments": {"expression": "1+1"}},
    ]
    matched, extra = match_calls(expected, actual)
    assert matched == 2 and [call["name"] for call in extra] == ["calculator"]
    assert match_calls(expected, actual[:1])[0] == 1
    assert match_calls([], [])[0] == 0
