"""`pipekit bench agent`: tool-choice accuracy and the agent loop's own overhead per step.

Scenarios (YAML list or JSONL, see bench/agent/scenarios.yaml) name a question, the tool
calls expected (name + key arguments) and texts the answer must contain. The tools are the
ReAct agent's real ones, against a fake SearXNG and a fake web site on 127.0.0.1.

- Without --ollama-url, a scripted fake Ollama makes exactly the expected calls: accuracy is a
  sanity check, and the figure that matters is the loop overhead per step, the time in
  `AgentLoop.run` minus the time spent waiting for the model and inside tools (prompt
  building, firewall scans, validation, events, thread hand-offs).
- With --ollama-url and --model, a real model decides: tool-choice accuracy and answer checks.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipekit.agents.loop import AgentLoop
from pipekit.agents.pipe import ReactAgentPipe
from pipekit.llm import ChatBackend, ChatChunk, ChatOptions, LLMConfig
from pipekit.pipe import ChatRequest
from pipekit.testing.search import FakeSearch, FakeWeb
from pipekit.tools import Tool

log = logging.getLogger(__name__)

SCRIPTED_MODEL = "bench-scripted"
DEFAULT_SCENARIOS = Path("bench/agent/scenarios.yaml")

# Every search finds pages on the fake web site, so a real model can go on to read them.
SEARCH_RESULTS = [
    {
        "title": "Python 3.13 release notes",
        "url": "{web}/python-313.html",
        "snippet": "Python 3.13 was released on 7 October 2024 with an experimental "
        "free-threaded build and a just-in-time compiler.",
    },
    {
        "title": "Build notes",
        "url": "{web}/notes.txt",
        "snippet": "Plain notes about the build.",
    },
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenarios",
        type=Path,
        default=DEFAULT_SCENARIOS,
        help=f"Scenario file, YAML list or JSONL (default: {DEFAULT_SCENARIOS}).",
    )
    parser.add_argument(
        "--ollama-url", default="", help="Real Ollama to test tool choice (default: scripted)."
    )
    parser.add_argument("--model", default="llama3.2:3b", help="Model name with --ollama-url.")
    parser.add_argument(
        "--repeat", type=int, default=0, help="Runs per scenario (default: 20 scripted, 1 real)."
    )
    parser.add_argument("--max-steps", type=int, default=6, help="The agent's step limit.")


@dataclass
class Scenario:
    id: str
    question: str
    expected_calls: list[dict[str, Any]] = field(default_factory=list)
    answer_contains: list[str] = field(default_factory=list)
    scripted_answer: str = "Done."


@dataclass
class RunResult:
    calls: list[dict[str, Any]]
    outcomes: list[str]  # per call: ok, error, timeout, invalid, refused
    answer: str
    rounds: int
    total_s: float
    model_s: float
    tools_s: float

    @property
    def overhead_ms_per_step(self) -> float:
        return (self.total_s - self.model_s - self.tools_s) * 1000 / max(1, self.rounds)


def load_scenarios(path: Path) -> list[Scenario]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        import yaml

        entries = yaml.safe_load(text) or []
    return [Scenario(**entry) for entry in entries]


def run(args: argparse.Namespace) -> dict:
    if not args.scenarios.is_file():
        raise SystemExit(
            f"No scenario file at {args.scenarios}: pass --scenarios FILE (the repository's "
            "bench/agent/scenarios.yaml shows the format)."
        )
    scenarios = load_scenarios(args.scenarios)
    real = bool(args.ollama_url)
    repeat = args.repeat or (1 if real else 20)
    with FakeSearch("searxng") as search, FakeWeb() as web:
        search.results = [{k: v.format(web=web.url) for k, v in r.items()} for r in SEARCH_RESULTS]
        fake_ollama = None
        if not real:
            from pipekit.testing.fake_ollama import FakeOllama

            fake_ollama = FakeOllama(models=None).start()
        try:
            url = args.ollama_url or fake_ollama.url
            model = args.model if real else SCRIPTED_MODEL
            pipe = _pipe(url, model, search.url, args.max_steps)
            results = []
            for scenario in scenarios:
                scenario = _with_web(scenario, web.url)
                runs = []
                for _ in range(repeat):
                    if fake_ollama is not None:
                        fake_ollama.script(*_script(scenario))
                    runs.append(run_once(pipe, scenario))
                results.append((scenario, runs))
                log.info("scenario %s: %d runs", scenario.id, len(runs))
        finally:
            if fake_ollama is not None:
                fake_ollama.stop()
    return summarise(results, mode="ollama" if real else "scripted", model=model, repeat=repeat)


def run_once(pipe: ReactAgentPipe, scenario: Scenario) -> RunResult:
    request = ChatRequest(
        model_id="react_agent",
        messages=[{"role": "user", "content": scenario.question}],
        chat_id=None,  # no page cache: every run reads its pages
    )
    clock = _Clock()
    tools, _ = pipe.tools_for(request)
    backend = _TimedBackend(pipe.backend(), clock)
    loop = AgentLoop(
        backend,
        pipe.valves.chat_options(),
        [_timed_tool(item, clock) for item in tools],
        pipe.agent_settings(),
    )
    started = time.perf_counter()
    answer = "".join(
        item for item in loop.run(pipe.agent_messages(request)) if isinstance(item, str)
    )
    total = time.perf_counter() - started
    calls = [{"name": step.tool, "arguments": step.arguments} for step in loop.steps]
    outcomes = [step.outcome for step in loop.steps]
    return RunResult(calls, outcomes, answer, backend.rounds, total, clock.model_s, clock.tools_s)


def summarise(results: list[tuple[Scenario, list[RunResult]]], **info: Any) -> dict:
    per_scenario = []
    correct_runs = answers_ok = expected_total = matched_total = total_runs = failed_calls = 0
    overheads: list[float] = []
    model_ms: list[float] = []
    tool_ms: list[float] = []
    for scenario, runs in results:
        correct = 0
        for result in runs:
            matched, extra = match_calls(scenario.expected_calls, result.calls)
            expected_total += len(scenario.expected_calls)
            matched_total += matched
            correct += matched == len(scenario.expected_calls) and not extra
            answers_ok += answer_ok(scenario, result.answer)
            failed_calls += sum(outcome != "ok" for outcome in result.outcomes)
            overheads.append(result.overhead_ms_per_step)
            model_ms.append(result.model_s * 1000 / max(1, result.rounds))
            if result.calls:
                tool_ms.append(result.tools_s * 1000 / len(result.calls))
        correct_runs += correct
        total_runs += len(runs)
        last = runs[-1]
        per_scenario.append(
            {
                "id": scenario.id,
                "tool_call_accuracy": round(correct / len(runs), 3),
                "calls": [
                    f"{_call_summary(call)} -> {outcome}"
                    for call, outcome in zip(last.calls, last.outcomes, strict=True)
                ],
                "answer_ok": answer_ok(scenario, last.answer),
                "steps": last.rounds,
                "overhead_ms_per_step_p50": _p([r.overhead_ms_per_step for r in runs], 50),
            }
        )
    return {
        **info,
        "scenarios": len(results),
        "runs": total_runs,
        "tool_call_accuracy": round(correct_runs / max(1, total_runs), 3),
        "expected_call_recall": round(matched_total / max(1, expected_total), 3),
        "answer_accuracy": round(answers_ok / max(1, total_runs), 3),
        "failed_tool_calls": failed_calls,
        "overhead_ms_per_step_p50": _p(overheads, 50),
        "overhead_ms_per_step_p95": _p(overheads, 95),
        "model_ms_per_step_p50": _p(model_ms, 50),
        "tool_ms_per_call_p50": _p(tool_ms, 50),
        "per_scenario": per_scenario,
    }


def match_calls(
    expected: list[dict[str, Any]], actual: list[dict[str, Any]]
) -> tuple[int, list[dict]]:
    """(expected calls matched, actual calls to tools the scenario did not expect)."""
    unused = list(actual)
    matched = 0
    for wanted in expected:
        for call in unused:
            if call["name"] == wanted["name"] and _arguments_fit(
                wanted.get("arguments") or {}, call["arguments"]
            ):
                unused.remove(call)
                matched += 1
                break
    wanted_names = {wanted["name"] for wanted in expected}
    extra = [call for call in unused if call["name"] not in wanted_names]
    return matched, extra


def answer_ok(scenario: Scenario, answer: str) -> bool:
    folded = answer.casefold()
    return all(text.casefold() in folded for text in scenario.answer_contains)


# --- internals -------------------------------------------------------------------------------


def _pipe(ollama_url: str, model: str, searxng_url: str, max_steps: int) -> ReactAgentPipe:
    pipe = ReactAgentPipe()
    pipe.valves = pipe.Valves(
        ollama_base_url=ollama_url,
        model=model,
        searxng_url=searxng_url,
        fetch_private_urls=True,  # the fake web site is on 127.0.0.1
        show_trace=False,
        max_steps=max_steps,
        temperature=0.0,
    )
    return pipe


def _with_web(scenario: Scenario, web_url: str) -> Scenario:
    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("{web}", web_url)
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value

    return replace(
        scenario,
        question=fill(scenario.question),
        expected_calls=fill(scenario.expected_calls),
    )


def _script(scenario: Scenario) -> list:
    from pipekit.testing.fake_base import Reply

    replies = [
        Reply(
            tool_calls=[
                {
                    "name": call["name"],
                    "arguments": call.get("scripted_arguments") or call.get("arguments") or {},
                }
            ]
        )
        for call in scenario.expected_calls
    ]
    return [*replies, Reply(content=scenario.scripted_answer)]


def _arguments_fit(wanted: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(
        str(value).casefold() in str(actual.get(key, "")).casefold()
        for key, value in wanted.items()
    )


def _call_summary(call: dict[str, Any]) -> str:
    arguments = json.dumps(call["arguments"], ensure_ascii=False)
    return f"{call['name']}({arguments[:80]})"


def _p(values: list[float], percentile: int) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return round(values[0], 3)
    return round(statistics.quantiles(values, n=100, method="inclusive")[percentile - 1], 3)


@dataclass
class _Clock:
    model_s: float = 0.0
    tools_s: float = 0.0


class _TimedBackend:
    """The model backend, with the time spent waiting for each chunk added up."""

    def __init__(self, inner: ChatBackend, clock: _Clock) -> None:
        self.inner = inner
        self.config: LLMConfig = inner.config
        self.clock = clock
        self.rounds = 0

    def stream(
        self, messages: list[dict], options: ChatOptions, tools: list[dict] | None = None
    ) -> Iterator[ChatChunk]:
        self.rounds += 1
        started = time.perf_counter()
        chunks = self.inner.stream(messages, options, tools)
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                self.clock.model_s += time.perf_counter() - started
                return
            self.clock.model_s += time.perf_counter() - started
            yield chunk
            started = time.perf_counter()

    def list_models(self) -> list[str]:
        return self.inner.list_models()


def _timed_tool(item: Tool, clock: _Clock) -> Tool:
    def timed(**arguments: Any) -> Any:
        started = time.perf_counter()
        try:
            return item.run(**arguments)
        finally:
            clock.tools_s += time.perf_counter() - started

    return replace(item, run=timed)
