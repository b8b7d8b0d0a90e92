"""`pipekit bench overhead --backend openai` against the real llama.cpp server."""

from __future__ import annotations

import json
import subprocess

from pipekit.testing.server import PIPEKIT
from tests.support.real_model import LlamaServer


def test_overhead_against_the_real_server(real_model: LlamaServer):
    command = [
        *PIPEKIT, "bench", "overhead", "--json", "--backend", "openai", "--url", real_model.url,
        "--tokens", "48", "--samples", "3", "--concurrency", "2",
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout)

    assert report["backend"] == "openai" and report["model"] == real_model.model
    assert report["errors"] == 0  # both paths streamed the same greedy answer, whole
    assert 0 < report["tokens_per_reply"] <= 48
    assert report["ttft_p50_ms_direct"] > 0 and report["ttft_p50_ms_pipe"] > 0
    # The pipe relays a model's stream: it must not cost a real model much of its pace.
    assert report["throughput_ratio"] > 0.5
    assert report["concurrent_streams"] == 2
