"""A scripted stand-in for the model, for the incident bench and demos without a GPU.

`ScriptedIncidentModel` is a fake Ollama whose replies are planned from the conversation it
receives: pods first, then warning events, then the crashed container's log when a pod
restarts, then a summary assembled from what those tools returned (rules, not reasoning).
So its accuracy measures the plumbing — MCP server → client → agent loop → pipe — and whether
the evidence is in the tool output, never how well a model reasons. Run the bench with
`--ollama-url` for a real model.
"""

from __future__ import annotations

import re
from typing import Any

from .fake_base import Reply, Turn, last_user_text
from .fake_ollama import FakeOllama

_NAMESPACE = re.compile(r"\bnamespace\s+([a-z0-9][a-z0-9-]*)", re.IGNORECASE)
# A pod row of pods_list: NAME READY STATUS RESTARTS …
_POD_ROW = re.compile(r"^(\S+)\s+(\d+/\d+)\s+(\S+)\s+(\d+)\s", re.MULTILINE)
_ERROR_LINE = re.compile(r"(ERROR|FATAL|Exception|Error:|KeyError|panic:)")
_STEP_LIMIT = "used all your tool steps"
_FENCE = re.compile(r"^</?tool_output\b")  # the firewall's wrapper around tool output


class ScriptedIncidentModel(FakeOllama):
    """Plans each reply from the messages; ignores the script queue."""

    def next_turn(self, messages: list[dict[str, Any]], max_tokens: Any = None) -> Turn:
        reply = plan_reply(messages)
        return Turn(reply, reply.pieces(), False)


def plan_reply(messages: list[dict[str, Any]]) -> Reply:
    question = next((str(m.get("content") or "") for m in messages if m.get("role") == "user"), "")
    match = _NAMESPACE.search(question)
    namespace = match.group(1) if match else "default"
    results = [str(m.get("content") or "") for m in messages if m.get("role") == "tool"]
    if _STEP_LIMIT in last_user_text(messages):
        return Reply(content=summary(results))
    if len(results) == 0:
        return _call("pods_list", namespace=namespace, status="unhealthy")
    if len(results) == 1:
        return _call("events_list", namespace=namespace, warnings_only=True)
    if len(results) == 2:
        restarting = [
            name
            for name, _ready, status, restarts in _POD_ROW.findall(results[0])
            if int(restarts) > 0 or status in ("CrashLoopBackOff", "Error", "OOMKilled")
        ]
        if restarting:
            return _call("pods_log", namespace=namespace, name=restarting[0], previous=True)
    return Reply(content=summary(results))


def summary(results: list[str]) -> str:
    """Root cause and quoted evidence, by rules over the tool output."""
    seen = "\n".join(
        line for line in "\n".join(results).splitlines() if not _FENCE.match(line.strip())
    )
    errors = [line.strip() for line in seen.splitlines() if _ERROR_LINE.search(line)]
    warnings = [
        line.strip() for line in seen.splitlines() if " Warning " in line or "Warning " in line
    ]
    if "OOMKilled" in seen:
        cause = "the container is OOMKilled: it exceeds its memory limit and is restarted."
    elif "Insufficient cpu" in seen:
        cause = "the pod stays Pending: no node has enough CPU (Insufficient cpu) for its request."
    elif "ImagePullBackOff" in seen or "ErrImagePull" in seen:
        cause = "ImagePullBackOff: the image cannot be pulled (the tag is not found)."
    elif "CrashLoopBackOff" in seen:
        first = errors[0] if errors else "no error line in the log"
        cause = f"CrashLoopBackOff: the container crashes on start ({first})."
    elif "No pods with status" in seen:
        cause = "nothing is wrong: every pod is running and ready, the namespace is healthy."
    else:
        cause = "unknown: the tools returned nothing conclusive."
    evidence = (errors + warnings)[:6] or [line for line in seen.splitlines() if line][:3]
    quoted = "\n".join(f"> {line[:300]}" for line in evidence)
    return f"**Root cause**: {cause}\n\n**Evidence**:\n{quoted}"


def _call(tool: str, /, **arguments: Any) -> Reply:
    return Reply(tool_calls=[{"name": tool, "arguments": arguments}])
