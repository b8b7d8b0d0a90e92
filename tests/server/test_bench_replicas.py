"""`pipekit bench scale`: the sizes it reports, and the mixed load on one and two replicas."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipekit.bench.replicas import mixed_run


def test_two_replicas_serve_the_mixed_load_without_errors(milvus_server, database_url):
    result = mixed_run(milvus_server, database_url, rounds=1)
    assert result["errors"] == 0, [result["one"]["error_examples"], result["two"]["error_examples"]]
    assert result["one"]["replicas"] == 1 and result["two"]["replicas"] == 2
    # 8 questions, a valve change and an approval a round (warm-up questions not counted).
    assert result["two"]["requests"] == 10
    assert result["p95_ratio"] == round(
        result["two"]["query_ms_p95"] / result["one"]["query_ms_p95"], 2
    )


def test_bench_scale_reports_each_size_in_the_documented_shape(milvus_server, tmp_path):
    done = subprocess.run(
        [str(Path(sys.executable).with_name("pipekit")), "bench", "scale", "--chunks", "60,120",
         "--queries", "3", "--replica-rounds", "0", "--milvus-uri", milvus_server, "--json"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert [size["chunks"] for size in result["sizes"]] == [60, 120]
    for size in result["sizes"]:
        assert set(size) >= {
            "chunks", "rss_mb_after_first_query", "first_query_s", "query_ms_p50",
            "query_ms_p95", "ingest_chunks_per_s",
        }  # fmt: skip
        assert size["rss_mb_after_first_query"] > 0 and size["first_query_s"] > 0
        assert 0 < size["query_ms_p50"] <= size["query_ms_p95"]
