"""The incident agent pipe: investigate with MCP tools, propose writes, run them on approval.

A chat message is either a decision — `approve CODE`, `deny CODE`, `deny` — handled here
without the model, or an alert/question, which the agent loop investigates with the tools of
the configured MCP servers (and runbook search when `pipekit.rag` is installed). Writes never
run from the loop: `on_write` stores them as pending actions with a one-time code, and the
answer ends with the exact action and that code. Every call, proposal and decision goes to
the audit log.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import Field

from pipekit import settings
from pipekit.agents.loop import AgentLoop, AgentSettings, trace_markdown
from pipekit.llm import text_of
from pipekit.mcp.client import MCPClient, MCPTimeout, MCPToolError, MCPUnavailable, parse_servers
from pipekit.pipe import BasePipe, ChatRequest, StreamItem
from pipekit.pipe.events import status
from pipekit.tools import Tool

from .approvals import ApprovalStore, Command, PendingAction, parse_command
from .audit import AuditLog
from .prompts import approval_block, fenced, pretty, proposal_note, system_prompt

log = logging.getLogger(__name__)

DEFAULT_MCP_SERVERS = """\
- name: openshift
  command: pipekit
  args: [mcp, openshift]
- name: slack
  command: pipekit
  args: [mcp, slack]
"""

# Passed on to pipekit's own stdio servers when set: the MCP SDK starts stdio servers with a
# minimal environment (PATH, HOME, …), which would drop the kubeconfig and the Slack token.
# Each server gets only its own: the cluster server never sees the Slack token.
_PASS_THROUGH_ENV = {
    "openshift": ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"),
    "slack": ("SLACK_BOT_TOKEN", "SLACK_API_URL"),
}


WRITES_OFF = "writes turned off (allow_writes valve)"


def incident_dir() -> Path:
    return settings.data_dir() / "incident"


class IncidentPipe(BasePipe):
    class Valves(BasePipe.Valves):
        mcp_servers: str = Field(
            DEFAULT_MCP_SERVERS,
            description="MCP servers whose tools the agent uses, as JSON or YAML: a list of "
            "{name, command, args, env} (stdio) or {name, url, headers} (HTTP/SSE), or Claude "
            "Desktop's {mcpServers: …}. `command: pipekit` runs pipekit's own servers with this "
            "server's Python; add `--read-only` to their args to hide every write. ${VAR} in env "
            "and headers is read from the pipelines server's environment.",
        )
        runbook_collections: list[str] = Field(
            default_factory=lambda: ["runbooks"],
            description="RAG collections searched for runbooks (needs pipekit.rag). Empty: no "
            "runbook search.",
        )
        slack_channel: str = Field(
            "#incidents", description="Channel the proposed Slack message goes to."
        )
        approval_ttl_s: int = Field(
            900,
            ge=1,
            le=7 * 86_400,
            description="Seconds a proposed action's approval code stays valid.",
        )
        max_steps: int = Field(8, ge=1, le=30, description="Most tool calls per investigation.")
        tool_timeout_s: float = Field(
            30.0, gt=0, le=600, description="Seconds one tool call (or approved action) may take."
        )
        time_budget_s: float = Field(
            240.0, gt=0, le=3600, description="Seconds one investigation may take in total."
        )
        show_trace: bool = Field(
            True, description="Append the list of tool calls (collapsed) under the answer."
        )
        allow_writes: bool = Field(
            True,
            description="Offer write tools (restart, scale, Slack post) for approval. Off: the "
            "agent only describes remediation; nothing can be proposed or run, and codes "
            "already issued are cancelled.",
        )

    def __init__(self, data_dir: Path | None = None) -> None:
        super().__init__()
        self._data_dir = data_dir
        self._client: MCPClient | None = None
        self._client_key: str | None = None
        self._client_lock = threading.Lock()
        self._stores: dict[Path, tuple[ApprovalStore, AuditLog]] = {}

    async def on_valves_updated(self) -> None:
        # Upstream never calls this at load, so decide() checks the valve as well.
        if not self.valves.allow_writes:
            await asyncio.to_thread(self.revoke_pending)

    async def on_shutdown(self) -> None:
        # Closing joins the MCP client's thread: keep it off the server's event loop.
        await asyncio.to_thread(self.close)

    def close(self) -> None:
        with self._client_lock:
            client, self._client, self._client_key = self._client, None, None
        if client is not None:
            client.close()

    # --- state ----------------------------------------------------------------------------

    def stores(self) -> tuple[ApprovalStore, AuditLog]:
        """Approvals and audit log in the data dir, read when called (tests move it)."""
        folder = self._data_dir or incident_dir()
        if folder not in self._stores:
            self._stores[folder] = (ApprovalStore(folder), AuditLog(folder))
        return self._stores[folder]

    def revoke_pending(self) -> list[PendingAction]:
        """Deny every pending code, audited: a code issued while writes were on must not run
        once they are off, nor later when they are turned back on."""
        approvals, audit = self.stores()
        revoked = approvals.deny_all(WRITES_OFF)
        for action in revoked:
            audit.record(
                event="denied", user=action.user_id, chat=action.chat_id, server=action.server,
                tool=action.tool, arguments=action.arguments, outcome="denied", writes=True,
                result=WRITES_OFF, approval_code=action.code,
            )  # fmt: skip
        return revoked

    def mcp(self) -> MCPClient:
        """One client per server list, kept between messages: stdio servers start once.

        A changed `mcp_servers` valve is picked up here, at the next message.
        """
        key = self.valves.mcp_servers
        with self._client_lock:
            if self._client is not None and self._client_key == key:
                return self._client
            old, self._client = self._client, None
            if old is not None:
                old.close()
            self._client = MCPClient.from_config(prepare_servers(key)).start()
            self._client_key = key
            return self._client

    # --- one message ----------------------------------------------------------------------

    def run(self, request: ChatRequest) -> Iterator[StreamItem]:
        command = parse_command(request.user_message)
        if command is not None:
            yield from self.decide(command, request)
            return
        yield from self.investigate(request)

    def investigate(self, request: ChatRequest) -> Iterator[StreamItem]:
        approvals, audit = self.stores()
        user, chat = request.user_id, request.chat_id
        yield status("Connecting to the MCP servers")
        client = self.mcp()
        problems = list(client.problems)
        for problem in problems:
            log.warning("incident agent: %s", problem)
            yield status(f"⚠️ {problem}")
        tools = client.tools()
        if not self.valves.allow_writes:
            tools = [item for item in tools if not item.writes]
        runbook, runbook_problem = self.runbook_tool(request)
        if runbook_problem:
            yield status(runbook_problem)
        if runbook is not None:
            tools.append(runbook)
        audited = [audit.audited(item, user=user, chat=chat) for item in tools]
        if not tools:
            yield status("No tools available: answering without live cluster data")

        proposals: list[PendingAction] = []

        def on_write(tool: Tool, arguments: dict[str, Any]) -> str:
            server = tool.server
            if not user or not chat:
                audit.record(
                    event="refused", user=user, chat=chat, server=server, tool=tool.name,
                    arguments=arguments, outcome="refused", writes=True,
                    result="no user or chat id: the action could not be tied to an approver",
                )  # fmt: skip
                return (
                    f"Refused: {tool.name} needs a human's approval, and this chat carries no "
                    "user and chat id to approve it with. Describe the action instead."
                )
            action = approvals.propose(
                tool=tool.name,
                server=server,
                remote_tool=tool.remote_name or tool.name,
                arguments=arguments,
                user_id=user,
                chat_id=chat,
                ttl_s=self.valves.approval_ttl_s,
            )
            if all(action.code != known.code for known in proposals):
                proposals.append(action)
            audit.record(
                event="proposed", user=user, chat=chat, server=server, tool=tool.name,
                arguments=arguments, outcome="pending", writes=True,
                approval_code=action.code,
            )  # fmt: skip
            return proposal_note(action)

        loop = AgentLoop(
            self.backend(),
            self.valves.chat_options(),
            audited,
            AgentSettings(
                max_steps=self.valves.max_steps,
                tool_timeout_s=self.valves.tool_timeout_s,
                time_budget_s=self.valves.time_budget_s,
                show_trace=False,  # written below, after the approval blocks
            ),
            on_write=on_write if self.valves.allow_writes else None,
        )
        conversation = [
            {"role": "system", "content": system_prompt(self.valves.slack_channel)},
            *_chat_messages(request.messages),
        ]
        yield from loop.run(conversation)
        now = time.time()
        for action in proposals:
            yield approval_block(action, now)
        if problems:
            yield "\n\n" + "\n".join(f"> ⚠️ {problem}" for problem in problems)
        if self.valves.show_trace and loop.steps:
            yield trace_markdown(loop.steps)

    def decide(self, command: Command, request: ChatRequest) -> Iterator[StreamItem]:
        """`approve CODE` runs the pending action once; `deny [CODE]` cancels."""
        approvals, audit = self.stores()
        user, chat = request.user_id or "", request.chat_id or ""
        if not user or not chat:
            yield (
                "⛔ This chat carries no user and chat id, so no action can be approved or "
                "denied here. Use the incident agent from Open WebUI."
            )
            return
        if command.verb == "approve" and not self.valves.allow_writes:
            self.revoke_pending()
            audit.record(
                event="approval_refused", user=user, chat=chat, server="", tool="",
                arguments={}, outcome="refused", writes=True, result=WRITES_OFF,
                approval_code=command.code,
            )  # fmt: skip
            yield (
                "⛔ Writes are turned off for the incident agent (its `allow_writes` valve), so "
                "no action can be approved. Nothing was run, and every pending code is cancelled. "
                "Once an admin turns writes back on, ask the agent again for a new code."
            )
            return
        if command.verb == "deny":
            denied, refusal = approvals.deny(command.code, user, chat)
            if refusal:
                yield f"⛔ {refusal}"
                return
            if not denied:
                yield "There is no pending action in this chat to deny."
                return
            for action in denied:
                audit.record(
                    event="denied", user=user, chat=chat, server=action.server,
                    tool=action.tool, arguments=action.arguments, outcome="denied",
                    writes=True, approval_code=action.code,
                )  # fmt: skip
            yield "\n".join(
                f"🚫 Denied `{a.code}`: `{a.tool}` will not run. Nothing was changed."
                for a in denied
            )
            return
        if command.code is None:
            waiting = approvals.pending(user, chat)
            yield (
                "Which action? Reply `approve CODE` with its code. Pending here: "
                + ", ".join(f"`{a.code}` ({a.tool})" for a in waiting)
                if waiting
                else "There is no pending action in this chat to approve."
            )
            return
        claim = approvals.claim(command.code, user, chat)
        if not claim.granted:
            known = approvals.get(command.code)
            audit.record(
                event="approval_refused", user=user, chat=chat,
                server=known.server if known else "", tool=known.tool if known else "",
                arguments=known.arguments if known else {}, outcome="refused", writes=True,
                result=claim.reason, approval_code=command.code,
            )  # fmt: skip
            yield f"⛔ {claim.refusal}"
            return
        action = claim.action
        assert action is not None
        yield status(f"Running {action.tool} on {action.server or 'pipekit'} (approved)")
        started = time.monotonic()
        ok, outcome = self.execute(action)
        elapsed = (time.monotonic() - started) * 1000
        approvals.finish(action.code, ok=ok, outcome=outcome)
        audit.record(
            event="approved", user=user, chat=chat, server=action.server, tool=action.tool,
            arguments=action.arguments, outcome="ok" if ok else "error", writes=True,
            result=outcome, duration_ms=elapsed, approval_code=action.code,
        )  # fmt: skip
        yield status(f"{action.tool} {'done' if ok else 'failed'}", done=True)
        arguments = fenced(pretty(action.arguments), "json")
        if ok:
            yield (
                f"✅ Approved `{action.code}`: ran `{action.tool}` on {action.server} once.\n\n"
                f"{arguments}\n\nResult:\n{fenced(outcome)}"
            )
        else:
            yield (
                f"❌ Approved `{action.code}`, but `{action.tool}` on {action.server} failed:\n\n"
                f"{fenced(outcome)}\n\nThe code is used up; ask again for a new one once the "
                "problem is fixed."
            )

    def execute(self, action: PendingAction) -> tuple[bool, str]:
        """Run an approved action on its MCP server: (succeeded, what it said)."""
        if not action.server:
            return False, f"{action.tool} is not an MCP tool; only MCP writes can be approved."
        try:
            text = self.mcp().call(
                action.server,
                action.remote_tool,
                action.arguments,
                timeout_s=self.valves.tool_timeout_s,
            )
        except (MCPToolError, MCPUnavailable, MCPTimeout) as error:
            return False, str(error)
        except Exception as error:  # a transport surprise must still end as a message
            log.exception("approved %s on %s failed", action.tool, action.server)
            return False, f"{type(error).__name__}: {error}"
        return True, text

    def runbook_tool(self, request: ChatRequest) -> tuple[Tool | None, str]:
        """The RAG search over the runbook collections, or why there is none."""
        collections = [name for name in self.valves.runbook_collections if name.strip()]
        if not collections:
            return None, ""
        try:
            from pipekit.agents.rag_search import Retriever, rag_search_tool
        except ImportError as error:
            log.info("runbook search skipped: pipekit.rag is not available (%s)", error)
            return None, "Runbook search is not available (pipekit.rag is not installed)"
        try:
            return (
                rag_search_tool(
                    Retriever(collections, user_id=request.user_id, chat_id=request.chat_id)
                ),
                "",
            )
        except Exception as error:
            log.warning("runbook search unavailable: %s", error)
            return None, f"Runbook search could not start: {type(error).__name__}: {error}"


def prepare_servers(config: str) -> str | list[dict[str, Any]]:
    """`command: pipekit` becomes this Python running pipekit, with the cluster/Slack env."""
    try:
        specs = parse_servers(config)
    except ValueError:
        return config  # MCPClient reports the problem as a status line
    prepared = []
    for spec in specs:
        entry = spec.model_dump(exclude_defaults=True) | {"name": spec.name}
        if spec.command == "pipekit":
            entry["command"] = sys.executable
            entry["args"] = ["-m", "pipekit.cli", *spec.args]
            which = spec.args[1] if len(spec.args) > 1 and spec.args[0] == "mcp" else ""
            names = _PASS_THROUGH_ENV.get(which, ())
            passed = {k: os.environ[k] for k in names if os.environ.get(k)}
            entry["env"] = passed | dict(spec.env)
        prepared.append(entry)
    return prepared


def _chat_messages(messages: list[dict]) -> list[dict]:
    """The conversation as plain text; a system prompt from Open WebUI follows ours."""
    return [
        {"role": m["role"], "content": text_of(m.get("content"))}
        for m in messages
        if m.get("role") in ("system", "user", "assistant")
    ]
