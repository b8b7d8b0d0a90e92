"""`pipekit bench scale`'s replicas part: the mixed load runs on one and two replicas."""

from __future__ import annotations

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
