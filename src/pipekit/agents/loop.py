"""The agent loop every agent pipe shares.

Native tool calling (Ollama and OpenAI-compatible servers) with a ReAct text-format fallback
for models without tool support. Each step shows up in the chat as a status line; tool
output goes through the firewall; write tools never run from here (they go to `on_write`,
which the incident agent turns into an approval request); bad tool-call JSON gets one repair
attempt; steps, per-tool time and total time are bounded. A pipe may give a `Grounding`:
what the agent does itself when the model's first reply calls no tool (searching, working the
arithmetic out), so a small model's guess is never passed off as an answer.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as ToolTimeout
from dataclasses import dataclass, field
from typing import Any

from pipekit.llm import ChatBackend, ChatOptions, LLMError, ToolCall
from pipekit.pipe.events import status
from pipekit.tools import Tool, ToolInputError

from .firewall import ToolOutputFirewall

log = logging.getLogger(__name__)

# Tools block (HTTP, Kubernetes API); a timed-out call keeps its thread until it returns,
# so the pool is larger than the number of calls one turn makes.
_TOOL_THREADS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="pipekit-tool")

WriteHandler = Callable[[Tool, dict[str, Any]], str]
Round = Generator[Any, None, tuple[str, list[ToolCall]]]


@dataclass
class AgentSettings:
    max_steps: int = 6
    tool_timeout_s: float = 30.0
    time_budget_s: float = 180.0
    show_trace: bool = True
    # ReAct text prompts from the first round: for models whose native tool calling is
    # unreliable even though the server accepts `tools`.
    force_react: bool = False


@dataclass
class Grounding:
    """When the model's first reply calls no tool, the agent makes these calls in its place,
    says so in the chat, and has the model answer from the results (or answers itself that
    nothing was found). The guess the model wrote is never shown."""

    calls: list[ToolCall]
    notice: str  # said in the chat: the model made no tool call, and what the agent did
    instruction: str  # after the results: how the model must answer from them
    found: Callable[[], bool] = lambda: True  # False: the calls found nothing to answer from
    nothing_found: str = ""  # the answer then, written by the agent rather than the model
    show_results: bool = False  # also show the results' first lines (a calculation)


@dataclass
class StepRecord:
    tool: str
    arguments: dict[str, Any]
    outcome: str  # ok, error, timeout, refused, invalid, proposed
    summary: str
    duration_ms: float


@dataclass
class _Turn:
    conversation: list[dict]
    deadline: float
    repairs_left: int = 1
    tainted: bool = False  # untrusted output with injected instructions was seen
    stop_message: str = ""
    steps: list[StepRecord] = field(default_factory=list)


class AgentLoop:
    def __init__(
        self,
        backend: ChatBackend,
        options: ChatOptions,
        tools: list[Tool],
        settings: AgentSettings | None = None,
        firewall: ToolOutputFirewall | None = None,
        on_write: WriteHandler | None = None,
        grounding: Grounding | None = None,
    ) -> None:
        self.backend = backend
        self.options = options
        self.tools = {item.name: item for item in tools}
        self.settings = settings or AgentSettings()
        self.firewall = firewall or ToolOutputFirewall()
        self.on_write = on_write
        self.grounding = grounding
        self.grounded = False  # the agent made the grounding calls: the model had not
        self.steps: list[StepRecord] = []

    def run(self, messages: list[dict]) -> Iterator[Any]:
        """Yield status events, answer text and tool events; the trace comes last."""
        turn = _Turn(list(messages), time.monotonic() + self.settings.time_budget_s)
        self.steps = turn.steps
        native = bool(self.tools)
        react = self.settings.force_react and bool(self.tools)
        first_step = self.grounding is not None and bool(self.tools)
        for round_number in range(self.settings.max_steps + 1):
            if time.monotonic() > turn.deadline:
                yield status("Time budget used up", done=True)
                yield (
                    f"⚠️ Stopped: the agent's time budget of {self.settings.time_budget_s:g} s "
                    "ran out before it finished. Raise the `time_budget_s` valve or ask a "
                    "narrower question."
                )
                break
            offer_tools = bool(self.tools) and round_number < self.settings.max_steps
            if self.grounded:  # the model answers from what the agent found, no more tools
                offer_tools = False
            elif self.tools and not offer_tools:
                yield status(f"Step limit ({self.settings.max_steps}) reached: writing the answer")
                turn.conversation.append({"role": "user", "content": _STEP_LIMIT_PROMPT})
            held: list[Any] = []
            try:
                if react:
                    steps = self._react_round(turn, offer_tools)
                else:
                    steps = self._native_round(turn, offer_tools and native)
                if first_step:  # shown only once it is known to call a tool
                    yield status("Thinking")
                    text, calls = _drain(steps, held)
                else:
                    text, calls = yield from steps
            except LLMError as error:
                if not react and error.kind == "no_tool_support":
                    react = True
                    yield status("The model has no native tool calling: using ReAct prompts")
                    continue
                if error.kind == "bad_tool_call":
                    if turn.repairs_left:
                        turn.repairs_left -= 1
                        turn.conversation.append({"role": "user", "content": _BAD_JSON_PROMPT})
                        yield status("The model sent a malformed tool call: asking it to repair")
                        continue
                    yield status("The model sent a malformed tool call again", done=True)
                    yield (
                        "⚠️ The model sent malformed tool-call JSON twice, so the agent stopped. "
                        "Try a model with better tool support, or a ReAct (text) mode."
                        f"\n\nDetails: {error.user_message}"
                    )
                    break
                raise
            if first_step and not calls:
                first_step = False
                yield from self._ground(turn)
                if turn.stop_message:
                    yield turn.stop_message
                    break
                continue
            first_step = False
            yield from held
            if not calls:
                break
            if not react:
                turn.conversation.append(_assistant_tool_message(text, calls))
            running = self._start_reads_together(turn, calls)
            if running:
                yield status(_batch_status(self.tools, calls, running))
            for call in calls:
                result = yield from self._run_call(turn, call, running.get(id(call)))
                turn.conversation.append(
                    {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": result}
                    if not react
                    else {"role": "user", "content": f"Observation: {result}"}
                )
            if turn.stop_message:
                yield turn.stop_message
                break
        yield status(f"Done ({len(turn.steps)} tool calls)", done=True)
        if self.settings.show_trace and turn.steps:
            yield trace_markdown(turn.steps)

    def _ground(self, turn: _Turn) -> Generator[Any, None, None]:
        grounding = self.grounding
        assert grounding is not None
        self.grounded = True
        yield f"> ℹ️ {grounding.notice}\n\n"
        results = []
        for call in grounding.calls:
            results.append((yield from self._run_call(turn, call)))
        if not grounding.found():
            turn.stop_message = grounding.nothing_found
            return
        if grounding.show_results:
            done = [step.summary for step in turn.steps if step.outcome == "ok"]
            yield "".join(f"> {line}\n" for line in done) + "\n"
        turn.conversation.append(
            {"role": "user", "content": "\n\n".join([*results, grounding.instruction])}
        )

    def _native_round(self, turn: _Turn, offer_tools: bool) -> Round:
        schemas = [item.schema() for item in self.tools.values()] if offer_tools else None
        texts: list[str] = []
        calls: list[ToolCall] = []
        for chunk in self.backend.stream(turn.conversation, self.options, schemas):
            if chunk.text:
                texts.append(chunk.text)
                yield chunk.text
            calls.extend(chunk.tool_calls)
        return "".join(texts), calls

    def _react_round(self, turn: _Turn, offer_tools: bool) -> Round:
        prompt = react_system_prompt(list(self.tools.values())) if offer_tools else ""
        conversation = (
            [{"role": "system", "content": prompt}, *turn.conversation]
            if prompt
            else turn.conversation
        )
        reply = "".join(chunk.text for chunk in self.backend.stream(conversation, self.options))
        thought, call, answer = parse_react(reply)
        if call is None or not offer_tools:
            yield answer
            return answer, []
        if thought:
            yield status(thought[:120])
        turn.conversation.append({"role": "assistant", "content": reply})
        return reply, [call]

    def _start_reads_together(
        self, turn: _Turn, calls: list[ToolCall]
    ) -> dict[int, tuple[Future, float, float]]:
        """Several valid read calls in one reply run at once ("Reading 3 pages").

        Writes, and calls that need repair, stay sequential in `_run_call`, so a write still
        sees the taint of every result before it.
        """
        if len(calls) < 2:
            return {}
        ready = []
        for call in calls:
            tool = self.tools.get(call.name)
            if tool is None or tool.writes or call.raw_arguments is not None:
                continue
            try:
                ready.append((call, tool, tool.validate(call.arguments)))
            except ToolInputError:
                continue
        if len(ready) < 2:
            return {}
        running = {}
        for call, tool, arguments in ready:
            started = time.monotonic()
            limit = max(0.1, min(self.settings.tool_timeout_s, turn.deadline - started))
            running[id(call)] = (_TOOL_THREADS.submit(tool.invoke, arguments), started, limit)
        return running

    def _run_call(
        self,
        turn: _Turn,
        call: ToolCall,
        running: tuple[Future, float, float] | None = None,
    ) -> Generator[Any, None, str]:
        started = running[1] if running else time.monotonic()
        tool = self.tools.get(call.name)

        def record(outcome: str, summary: str) -> None:
            elapsed = (time.monotonic() - started) * 1000
            turn.steps.append(StepRecord(call.name, call.arguments, outcome, summary, elapsed))

        problem = None
        if tool is None:
            problem = f"there is no tool named {call.name!r}; available: {', '.join(self.tools)}"
        elif call.raw_arguments is not None:
            problem = f"the arguments were not a JSON object: {call.raw_arguments[:200]!r}"
        else:
            try:
                arguments = tool.validate(call.arguments)
            except ToolInputError as error:
                problem = str(error)
        if problem is not None:
            record("invalid", problem)
            if turn.repairs_left:
                turn.repairs_left -= 1
                yield status(f"Invalid call to {call.name}: asking the model to repair it")
                return f"Error: {problem}. Call the tool again with corrected arguments."
            turn.stop_message = (
                f"⚠️ The model called `{call.name}` with invalid arguments twice ({problem}), "
                "so the agent stopped. Try a model with better tool support."
            )
            return f"Error: {problem}"

        if tool.writes:
            return (yield from self._propose_write(turn, tool, arguments, record))

        if running:
            future, _, limit = running
        else:
            yield status(tool.progress_text(arguments))
            future = _TOOL_THREADS.submit(tool.invoke, arguments)
            limit = max(0.1, min(self.settings.tool_timeout_s, turn.deadline - started))
        try:
            result = future.result(timeout=max(0.05, started + limit - time.monotonic()))
        except ToolTimeout:
            record("timeout", f"no answer within {limit:.0f} s")
            yield status(f"{call.name} timed out after {limit:.0f} s")
            return f"Error: {call.name} did not answer within {limit:.0f} s."
        except Exception as error:
            log.warning("tool %s failed: %s", call.name, type(error).__name__)
            record("error", f"{type(error).__name__}: {error}")
            # The user sees the failure too, whatever the model makes of it.
            yield status(f"{call.name} failed: {_first_line(str(error))}")
            return f"Error: {call.name} failed: {error}"
        yield from result.events
        fenced = self.firewall.fence(call.name, result.text)
        if fenced.suspicious:
            turn.tainted = True
            yield status(f"Ignored instructions found in {call.name} output")
        record("ok", _first_line(result.text))
        return fenced.text

    def _propose_write(self, turn: _Turn, tool: Tool, arguments: dict, record) -> Generator:
        if turn.tainted:
            record("refused", "write after untrusted output with injected instructions")
            yield status(f"Refused {tool.name}: it followed untrusted tool output")
            return (
                f"Refused: {tool.name} changes things, and this turn has read untrusted output "
                "that tried to give instructions. Tell the user what you would do instead."
            )
        if self.on_write is None:
            record("refused", "write tools are not enabled in this pipe")
            return f"Refused: {tool.name} changes things and this assistant may not run it."
        message = self.on_write(tool, arguments)
        record("proposed", _first_line(message))
        yield status(f"Proposed {tool.name}: waiting for approval")
        return message


_STEP_LIMIT_PROMPT = (
    "You have used all your tool steps. Answer the question now with what you have found, "
    "without calling tools, and say what you could not check."
)
_BAD_JSON_PROMPT = (
    "Your previous tool call could not be parsed: its arguments were not valid JSON. "
    "Call the tool again with a valid JSON object of arguments."
)


def react_system_prompt(tools: list[Tool]) -> str:
    described = "\n".join(
        f"- {item.name}: {item.description} Arguments (JSON schema): "
        f"{json.dumps(item.parameters, ensure_ascii=False)}"
        for item in tools
    )
    return (
        "You can use these tools:\n"
        f"{described}\n\n"
        "To use a tool, reply with exactly these lines and stop:\n"
        "Thought: <why you need it>\nAction: <tool name>\nAction Input: <JSON object>\n\n"
        "You will get an Observation back. When you can answer, reply:\n"
        "Final Answer: <the answer for the user>"
    )


def parse_react(reply: str) -> tuple[str, ToolCall | None, str]:
    """(thought, tool call or None, final answer) from a ReAct-format reply."""
    thought_match = re.search(r"Thought:\s*(.+)", reply)
    thought = thought_match.group(1).strip() if thought_match else ""
    final = re.search(r"Final Answer:\s*(.*)", reply, re.S)
    action = re.search(r"Action:\s*([\w.\-]+)\s*\n\s*Action Input:\s*(.*)", reply, re.S)
    if action and not (final and final.start() < action.start()):
        raw = action.group(2).strip()
        start, end = raw.find("{"), raw.rfind("}")
        payload = raw[start : end + 1] if start != -1 and end > start else raw
        try:
            arguments = json.loads(payload)
        except json.JSONDecodeError:
            return thought, ToolCall(action.group(1), {}, raw_arguments=raw), ""
        if not isinstance(arguments, dict):
            return thought, ToolCall(action.group(1), {}, raw_arguments=raw), ""
        return thought, ToolCall(action.group(1), arguments), ""
    answer = final.group(1).strip() if final else reply.strip()
    return thought, None, answer


def trace_markdown(steps: list[StepRecord]) -> str:
    """A collapsible list of the steps, appended under the answer."""
    lines = [f"\n\n<details>\n<summary>Agent steps ({len(steps)})</summary>\n"]
    for number, step in enumerate(steps, 1):
        arguments = json.dumps(step.arguments, ensure_ascii=False)
        if len(arguments) > 160:
            arguments = arguments[:157] + "…"
        lines.append(
            f"{number}. `{step.tool}` `{arguments}` → {step.outcome} "
            f"({step.duration_ms:.0f} ms): {step.summary[:160]}"
        )
    lines.append("\n</details>")
    return "\n".join(lines)


def _batch_status(tools: dict[str, Tool], calls: list[ToolCall], running: dict) -> str:
    started = [(tools[call.name], call) for call in calls if id(call) in running]
    names = {tool.name for tool, _ in started}
    if names == {"fetch_page"}:
        return f"Reading {len(started)} pages"
    if names == {"web_search"}:
        return f"Running {len(started)} web searches"
    if len(names) == 1:
        first_tool, first_call = started[0]
        return f"{first_tool.progress_text(first_call.arguments)} (and {len(started) - 1} more)"
    return f"Running {len(started)} tools at once: {', '.join(sorted(names))}"


def _drain(steps: Round, held: list[Any]) -> tuple[str, list[ToolCall]]:
    """Run a round without showing it yet: what it would show waits in `held`."""
    while True:
        try:
            held.append(next(steps))
        except StopIteration as done:
            return done.value


def _assistant_tool_message(text: str, calls: list[ToolCall]) -> dict:
    for index, call in enumerate(calls):
        call.id = call.id or f"call_{index}"
    return {
        "role": "assistant",
        "content": text,
        "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in calls
        ],
    }


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0][:200] if stripped else "(empty)"
