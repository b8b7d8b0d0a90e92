"""The incident agent pipe: investigate with MCP tools, propose writes, run them on approval.

A chat message is either a decision — `approve CODE`, `deny CODE`, `deny` — handled here
without the model, or an alert/question, which the agent loop investigates with the tools of
the configured MCP servers and runbook search. Writes never run from the loop: the approval
flow stores them as pending actions with a one-time code, and the answer ends with the exact
action and that code. Every call, proposal and decision goes to the audit log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

from pydantic import Field

from pipekit import settings
from pipekit.agents.pipe import BaseAgentPipe
from pipekit.agents.web import Citations
from pipekit.mcp.client import MCPClient, MCPTimeout, MCPToolError, MCPUnavailable
from pipekit.pipe import ChatRequest, StreamItem, status
from pipekit.tools import Tool

from .approvals import ApprovalStore, Command, PendingAction, parse_command
from .audit import AuditLog
from .flow import ApprovalFlow
from .prompts import system_prompt

log = logging.getLogger(__name__)

DEFAULT_MCP_SERVERS = """\
- name: openshift
  command: pipekit
  args: [mcp, openshift]
- name: slack
  command: pipekit
  args: [mcp, slack]
"""


def incident_dir() -> Path:
    return settings.data_dir() / "incident"


class IncidentPipe(BaseAgentPipe):
    class Valves(BaseAgentPipe.Valves):
        mcp_servers: str = Field(
            DEFAULT_MCP_SERVERS,
            description="MCP servers whose tools the agent uses, as JSON or YAML: a list of "
            "{name, command, args, env} (stdio) or {name, url, headers} (HTTP/SSE), or Claude "
            "Desktop's {mcpServers: …}. `command: pipekit` runs pipekit's own servers with this "
            "server's Python; add `--read-only` to their args to hide every write. ${VAR} in env "
            "and headers is read from the pipelines server's environment.",
        )
        collections: list[str] = Field(
            default_factory=lambda: ["runbooks"],
            description="Runbook collections the agent searches with rag_search (needs "
            "pipekit.rag). Empty: no runbook search.",
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
        allow_writes: bool = Field(
            True,
            description="Offer write tools (restart, scale, Slack post) for approval. Off: the "
            "agent only describes remediation; nothing can be proposed or run, and codes "
            "already issued are cancelled.",
        )

    def __init__(self, data_dir: Path | None = None) -> None:
        super().__init__()
        self._data_dir = data_dir
        self._stores: dict[Path, tuple[ApprovalStore, AuditLog]] = {}

    @property
    def instructions(self) -> str:
        return system_prompt(self.valves.slack_channel)

    async def on_valves_updated(self) -> None:
        # Upstream never calls this at load, so decide() checks the valve as well.
        if not self.valves.allow_writes:
            await asyncio.to_thread(self.revoke_pending)

    # --- state ----------------------------------------------------------------------------

    def stores(self) -> tuple[ApprovalStore, AuditLog]:
        """Approvals and audit log in the data dir, read when called (tests move it)."""
        folder = self._data_dir or incident_dir()
        if folder not in self._stores:
            self._stores[folder] = (ApprovalStore(folder), AuditLog(folder))
        return self._stores[folder]

    def flow(self, request: ChatRequest | None = None) -> ApprovalFlow:
        """The approvals of the request's user and chat (none: of nobody, to revoke all)."""
        approvals, audit = self.stores()
        user, chat = (request.user_id, request.chat_id) if request else (None, None)
        return ApprovalFlow(approvals, audit, user, chat, ttl_s=self.valves.approval_ttl_s)

    def revoke_pending(self) -> list[PendingAction]:
        return self.flow().revoke_all()

    def mcp(self) -> MCPClient:
        return self.tool_sources.mcp(self.valves.mcp_servers)

    # --- one message ----------------------------------------------------------------------

    def run(self, request: ChatRequest) -> Iterator[StreamItem]:
        command = parse_command(request.user_message)
        if command is not None:
            yield from self.decide(command, request)
            return
        yield from super().run(request)

    def tools_for(
        self, request: ChatRequest, citations: Citations | None = None
    ) -> tuple[list[Tool], list[str]]:
        """Every tool audited; without `allow_writes`, no write tool is even offered."""
        tools, problems = super().tools_for(request, citations)
        if not self.valves.allow_writes:
            tools = [item for item in tools if not item.writes]
        _, audit = self.stores()
        audited = [
            audit.audited(item, user=request.user_id, chat=request.chat_id) for item in tools
        ]
        return audited, problems

    def write_handler(self, request: ChatRequest) -> ApprovalFlow | None:
        """Writes become proposals with a code in this chat; with writes off the loop refuses."""
        return self.flow(request) if self.valves.allow_writes else None

    def after_answer(self, on_write: ApprovalFlow | None, problems: list[str]) -> Iterator[str]:
        if on_write is not None:
            yield on_write.approval_blocks()
        yield from super().after_answer(on_write, problems)

    def decide(self, command: Command, request: ChatRequest) -> Iterator[StreamItem]:
        """`approve CODE` runs the pending action once; `deny [CODE]` cancels."""
        flow = self.flow(request)
        if not flow.identified:
            yield (
                "⛔ This chat carries no user and chat id, so no action can be approved or "
                "denied here. Use the incident agent from Open WebUI."
            )
            return
        if command.verb == "deny":
            yield flow.deny(command.code)
            return
        if not self.valves.allow_writes:
            yield flow.refuse_while_writes_off(command.code)
            return
        action, refusal = flow.claim(command.code)
        if action is None:
            yield refusal
            return
        yield status(f"Running {action.tool} on {action.server or 'pipekit'} (approved)")
        ok, message = flow.run(action, self.execute)
        yield status(f"{action.tool} {'done' if ok else 'failed'}", done=True)
        yield message

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
