"""`pipekit bench rag --json` as a user runs it: the shipped Korean set, the offline embedders,
real Milvus Lite, ingested and then searched from a fresh open as the server does."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pipekit.testing.server import PIPEKIT

KOREAN_SET = Path(__file__).parents[2] / "bench" / "rag" / "ko-ops"


def test_bench_rag_reports_quality_speed_and_latency_at_scale():
    completed = subprocess.run(
        [
            *PIPEKIT, "bench", "rag",
            "--corpus", str(KOREAN_SET / "corpus"),
            "--questions", str(KOREAN_SET / "questions.jsonl"),
            "--latency-chunks", "600",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads(completed.stdout)
    questions = (KOREAN_SET / "questions.jsonl").read_text("utf-8").splitlines()
    assert result["questions"] == len([line for line in questions if line.strip()])
    assert result["documents"] == len(list((KOREAN_SET / "corpus").iterdir()))
    assert result["chunks"] >= result["documents"]
    assert 0 <= result["recall@1"] <= result["recall@5"] <= result["recall@10"] <= 1
    # The questions were written for these runbooks: nearly all must be found.
    assert result["recall@10"] >= 0.9 and result["mrr@10"] > 0.5
    assert all(isinstance(miss, str) for miss in result["misses"])
    for key in ("query_ms_p50", "query_ms_p95", "ingest_chunks_per_s", "embed_chunks_per_s"):
        assert result[key] > 0, key
    assert result["latency_chunks"] == 600
    assert 0 < result["query_ms_p50_at_latency_chunks"] <= result["query_ms_p95_at_latency_chunks"]
    assert result["query_ms_p95_first_pass_at_latency_chunks"] > 0
