"""`pipekit bench overhead`: what the pipelines server and a pipe add to a model's stream.

A fake Ollama streams N tokens at a fixed pace. The same client measures time to first token
and tokens/s straight from it, then through `pipekit serve` with the chat pipe, then with
many concurrent streams through the pipe. Both servers run as subprocesses, as in production.

With `--backend openai --url http://HOST:PORT/v1` the model is a real OpenAI-compatible server
(vLLM, llama.cpp's server) instead: the same comparison, direct vs. through the chat pipe on
its `openai` backend, with greedy decoding so both paths stream the same answer.
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
# Asks a real model for a long answer, so max_tokens rather than the model ends it.
REAL_PROMPT = "Write a long story about a lighthouse keeper and a storm."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tokens", type=int, default=200, help="Tokens per reply.")
    parser.add_argument("--token-delay-ms", type=float, default=5.0, help="Pace of the fake.")
    parser.add_argument("--samples", type=int, default=20, help="Sequential runs per path.")
    parser.add_argument(
        "--concurrency", type=int, default=64, help="Concurrent pipe streams (0: skip)."
    )
    parser.add_argument(
        "--backend", choices=["fake", "openai"], default="fake",
        help="fake: a paced fake Ollama; openai: the real OpenAI-compatible server at --url.",
    )  # fmt: skip
    parser.add_argument("--url", help="The OpenAI-compatible server, ending in /v1.")
    parser.add_argument("--model", default="", help="Its model name (default: its first).")


@dataclass
class StreamRun:
    ttft_ms: float
    tokens: int
    tokens_per_s: float


def run(args: argparse.Namespace) -> dict:
    if args.backend == "openai":
        return _run_openai(args)
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
            result = _compare(direct, piped, args, args.tokens)
        finally:
            server.stop()
            fake.terminate()
            fake.wait(timeout=10)
    return {"tokens_per_reply": args.tokens, "token_delay_ms": args.token_delay_ms, **result}


def _run_openai(args: argparse.Namespace) -> dict:
    if not args.url:
        raise SystemExit("pipekit bench overhead: --backend openai needs --url http://HOST:PORT/v1")
    url = args.url.rstrip("/")
    model = args.model or httpx.get(url + "/models", timeout=30).json()["data"][0]["id"]
    with tempfile.TemporaryDirectory(prefix="pipekit-bench-") as scratch:
        server = PipekitServer(Path(scratch), env={"OPENAI_BASE_URL": url, "PIPEKIT_MODEL": model})
        try:
            server.start()
            _use_openai_backend(server, args.tokens)
            direct = lambda: _direct_openai_stream(url, model, args.tokens)  # noqa: E731
            piped = lambda: _pipe_stream(server.url, server.api_key, REAL_PROMPT)  # noqa: E731
            expected = direct().tokens  # a real model may stop before --tokens: its length
            result = _compare(direct, piped, args, expected)
        finally:
            server.stop()
    return {"backend": "openai", "url": url, "model": model, "tokens_per_reply": expected, **result}


def _compare(direct, piped, args: argparse.Namespace, expected: int) -> dict:
    for measure in (direct, piped):  # warm both paths (imports, connections)
        measure()
    # Taken in turns, so a machine busy for a while slows both paths alike.
    direct_runs, pipe_runs = [], []
    for _ in range(args.samples):
        direct_runs.append(direct())
        pipe_runs.append(piped())
    concurrent = _concurrent(piped, args.concurrency) if args.concurrency > 0 else None
    errors = sum(r.tokens != expected for r in direct_runs + pipe_runs)
    ttft_direct = statistics.median(r.ttft_ms for r in direct_runs)
    ttft_pipe = statistics.median(r.ttft_ms for r in pipe_runs)
    rate_direct = statistics.median(r.tokens_per_s for r in direct_runs)
    rate_pipe = statistics.median(r.tokens_per_s for r in pipe_runs)
    result = {
        "samples": args.samples,
        "ttft_p50_ms_direct": round(ttft_direct, 2),
        "ttft_p50_ms_pipe": round(ttft_pipe, 2),
        "ttft_added_p50_ms": round(ttft_pipe - ttft_direct, 2),
        "tokens_per_s_direct": round(rate_direct, 1),
        "tokens_per_s_pipe": round(rate_pipe, 1),
        "throughput_ratio": round(rate_pipe / rate_direct, 4),
    }
    if concurrent is not None:
        errors += concurrent["errors"]
        result |= {
            "concurrent_streams": args.concurrency,
            "concurrent_tokens_per_s_per_stream_p50": round(concurrent["rate_p50"], 1),
            "concurrent_throughput_ratio": round(concurrent["rate_p50"] / rate_direct, 4),
            "concurrent_ttft_p95_ms": round(concurrent["ttft_p95"], 1),
        }
    return {**result, "errors": errors}


def _use_openai_backend(server: PipekitServer, tokens: int) -> None:
    """The chat pipe on the `openai` backend, sampling as the direct requests do."""
    from pipekit.chat import ChatPipe

    valves = ChatPipe.Valves(backend="openai", temperature=0.0, max_tokens=tokens).model_dump()
    with server.client() as client:
        client.post("/chat/valves/update", json=valves).raise_for_status()


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


def _direct_openai_stream(url: str, model: str, tokens: int) -> StreamRun:
    """The real server's SSE stream, read straight from it."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": REAL_PROMPT}],
        "stream": True,
        "temperature": 0.0,
        "max_tokens": tokens,
    }
    return _timed_stream(url + "/chat/completions", body, {}, _sse_has_text)


def _pipe_stream(url: str, key: str, prompt: str = "go") -> StreamRun:
    """The same answer through pipekit serve and the chat pipe, as SSE."""
    body = {"model": "chat", "messages": [{"role": "user", "content": prompt}], "stream": True}
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
    with httpx.Client(timeout=300, headers=headers) as client:
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
