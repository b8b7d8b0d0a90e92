"""`pipekit bench overhead`: what the pipelines server and a pipe add to a model's stream.

A fake Ollama streams N tokens at a fixed pace. The same client measures time to first token
and tokens/s straight from it, then through `pipekit serve` with the chat pipe, then with
many concurrent streams through the pipe. Both servers run as subprocesses, as in production.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from pipekit.testing.server import PipekitServer, free_port

log = logging.getLogger(__name__)

MODEL = "bench-model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tokens", type=int, default=200, help="Tokens per reply.")
    parser.add_argument("--token-delay-ms", type=float, default=5.0, help="Pace of the fake.")
    parser.add_argument("--samples", type=int, default=20, help="Sequential runs per path.")
    parser.add_argument("--concurrency", type=int, default=64, help="Concurrent pipe streams.")


@dataclass
class StreamRun:
    ttft_ms: float
    tokens: int
    tokens_per_s: float


def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="pipekit-bench-") as scratch:
        fake = _start_fake(args.tokens, args.token_delay_ms)
        fake_url = f"http://127.0.0.1:{fake.port}"
        server = PipekitServer(
            Path(scratch),
            env={"OLLAMA_BASE_URL": fake_url, "PIPEKIT_MODEL": MODEL},
        )
        try:
            server.start()
            direct = lambda: _direct_stream(fake_url)  # noqa: E731
            piped = lambda: _pipe_stream(server.url, server.api_key)  # noqa: E731
            for measure in (direct, piped):  # warm both paths (imports, connections)
                measure()
            direct_runs = [direct() for _ in range(args.samples)]
            pipe_runs = [piped() for _ in range(args.samples)]
            concurrent = _concurrent(piped, args.concurrency)
        finally:
            server.stop()
            fake.terminate()
            fake.wait(timeout=10)

    expected = args.tokens
    errors = concurrent["errors"] + sum(r.tokens != expected for r in direct_runs + pipe_runs)
    ttft_direct = statistics.median(r.ttft_ms for r in direct_runs)
    ttft_pipe = statistics.median(r.ttft_ms for r in pipe_runs)
    rate_direct = statistics.median(r.tokens_per_s for r in direct_runs)
    rate_pipe = statistics.median(r.tokens_per_s for r in pipe_runs)
    return {
        "tokens_per_reply": expected,
        "token_delay_ms": args.token_delay_ms,
        "samples": args.samples,
        "ttft_p50_ms_direct": round(ttft_direct, 2),
        "ttft_p50_ms_pipe": round(ttft_pipe, 2),
        "ttft_added_p50_ms": round(ttft_pipe - ttft_direct, 2),
        "tokens_per_s_direct": round(rate_direct, 1),
        "tokens_per_s_pipe": round(rate_pipe, 1),
        "throughput_ratio": round(rate_pipe / rate_direct, 4),
        "concurrent_streams": args.concurrency,
        "concurrent_tokens_per_s_per_stream_p50": round(concurrent["rate_p50"], 1),
        "concurrent_throughput_ratio": round(concurrent["rate_p50"] / rate_direct, 4),
        "concurrent_ttft_p95_ms": round(concurrent["ttft_p95"], 1),
        "errors": errors,
    }


def _start_fake(tokens: int, delay_ms: float) -> subprocess.Popen:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipekit.cli",
            "fake-ollama",
            "--port",
            str(port),
            "--tokens",
            str(tokens),
            "--token-delay-ms",
            str(delay_ms),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    process.port = port  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/version", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the fake Ollama did not start")


def _direct_stream(url: str) -> StreamRun:
    """Ollama's NDJSON stream, read straight from the fake."""
    body = {"model": MODEL, "messages": [{"role": "user", "content": "go"}], "stream": True}
    return _timed_stream(url + "/api/chat", body, {}, _ndjson_has_text)


def _pipe_stream(url: str, key: str) -> StreamRun:
    """The same answer through pipekit serve and the chat pipe, as SSE."""
    body = {"model": "chat", "messages": [{"role": "user", "content": "go"}], "stream": True}
    return _timed_stream(
        url + "/chat/completions", body, {"Authorization": f"Bearer {key}"}, _sse_has_text
    )


def _ndjson_has_text(line: str) -> bool:
    return bool(line and json.loads(line).get("message", {}).get("content"))


def _sse_has_text(line: str) -> bool:
    if not line.startswith("data:") or line.endswith("[DONE]"):
        return False
    choices = json.loads(line[5:]).get("choices") or [{}]
    return bool(choices[0].get("delta", {}).get("content"))


def _timed_stream(url: str, body: dict, headers: dict, has_text) -> StreamRun:
    with httpx.Client(timeout=60, headers=headers) as client:
        start = time.perf_counter()
        first = None
        tokens = 0
        with client.stream("POST", url, json=body) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if has_text(line):
                    first = first or time.perf_counter()
                    tokens += 1
        return _run(start, first, time.perf_counter(), tokens)


def _run(start: float, first: float | None, end: float, tokens: int) -> StreamRun:
    first = first or end
    streaming_s = max(end - first, 1e-6)
    return StreamRun((first - start) * 1000, tokens, max(tokens - 1, 0) / streaming_s)


def _concurrent(measure, streams: int) -> dict:
    results: list[StreamRun] = []
    errors: list[str] = []
    lock = threading.Lock()
    gate = threading.Barrier(streams)

    def worker() -> None:
        gate.wait()
        try:
            outcome = measure()
        except Exception as error:  # counted, not raised: the benchmark reports errors
            with lock:
                errors.append(type(error).__name__)
            return
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(streams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = max((r.tokens for r in results), default=0)
    short = sum(r.tokens != expected for r in results)
    ttfts = sorted(r.ttft_ms for r in results) or [0.0]
    return {
        "errors": len(errors) + short,
        "rate_p50": statistics.median(r.tokens_per_s for r in results) if results else 0.0,
        "ttft_p95": ttfts[min(len(ttfts) - 1, int(0.95 * len(ttfts)))],
    }
