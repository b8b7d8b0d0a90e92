"""The approval flow of one chat: a write is proposed, then denied, or approved and run once.

Each step returns the message shown (to the model for a proposal, to the user otherwise) and
writes its audit entry from the pending action itself: who asked, where, which tool with
which arguments, under which code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pipekit.tools import Tool

from .approvals import ApprovalStore, PendingAction
from .audit import AuditLog
from .prompts import approval_block, fenced, pretty, proposal_note

WRITES_OFF = "writes turned off (allow_writes valve)"

# Runs an approved action: (succeeded, what it said).
Execute = Callable[[PendingAction], tuple[bool, str]]


class ApprovalFlow:
    """The approvals of one user in one chat. Called with a tool and its arguments, as the
    agent loop's write handler, it proposes the write."""

    def __init__(
        self,
        approvals: ApprovalStore,
        audit: AuditLog,
        user: str | None = None,
        chat: str | None = None,
        *,
        ttl_s: float = 900,
    ) -> None:
        self.approvals = approvals
        self.audit = audit
        self.user = user
        self.chat = chat
        self.ttl_s = ttl_s
        self.proposed: list[PendingAction] = []  # in this turn, each code once

    @property
    def identified(self) -> bool:
        """Whether the chat carries a user and a chat id: without them nothing can be approved."""
        return bool(self.user and self.chat)

    def __call__(self, tool: Tool, arguments: dict[str, Any]) -> str:
        return self.propose(tool, arguments)

    def propose(self, tool: Tool, arguments: dict[str, Any]) -> str:
        """Store the write under a one-time code; the note tells the model it did not run."""
        if not self.identified:
            self._record(
                "refused",
                "refused",
                server=tool.server,
                tool=tool.name,
                arguments=arguments,
                result="no user or chat id: the action could not be tied to an approver",
            )
            return (
                f"Refused: {tool.name} needs a human's approval, and this chat carries no "
                "user and chat id to approve it with. Describe the action instead."
            )
        action = self.approvals.propose(
            tool=tool.name,
            server=tool.server,
            remote_tool=tool.remote_name or tool.name,
            arguments=arguments,
            user_id=self.user,
            chat_id=self.chat,
            ttl_s=self.ttl_s,
        )
        if all(action.code != known.code for known in self.proposed):
            self.proposed.append(action)
        self._record("proposed", "pending", action)
        return proposal_note(action)

    def approval_blocks(self) -> str:
        """Each action proposed in this turn, exactly, with its code: shown under the answer."""
        now = time.time()
        return "".join(approval_block(action, now) for action in self.proposed)

    def deny(self, code: str | None) -> str:
        """`deny CODE` cancels that action; `deny` every action pending in this chat."""
        denied, refusal = self.approvals.deny(code, self.user or "", self.chat or "")
        if refusal:
            return f"⛔ {refusal}"
        if not denied:
            return "There is no pending action in this chat to deny."
        for action in denied:
            self._record("denied", "denied", action)
        return "\n".join(
            f"🚫 Denied `{a.code}`: `{a.tool}` will not run. Nothing was changed." for a in denied
        )

    def claim(self, code: str | None) -> tuple[PendingAction | None, str]:
        """The action `approve CODE` runs now, or no action and the message saying why."""
        if code is None:
            waiting = self.approvals.pending(self.user or "", self.chat or "")
            if not waiting:
                return None, "There is no pending action in this chat to approve."
            listed = ", ".join(f"`{a.code}` ({a.tool})" for a in waiting)
            return None, f"Which action? Reply `approve CODE` with its code. Pending here: {listed}"
        claim = self.approvals.claim(code, self.user or "", self.chat or "")
        if not claim.granted:
            known = self.approvals.get(code)
            self._record(
                "approval_refused", "refused", known, approval_code=code, result=claim.reason
            )
            return None, f"⛔ {claim.refusal}"
        return claim.action, ""

    def run(self, action: PendingAction, execute: Execute) -> tuple[bool, str]:
        """Run a claimed action once: (succeeded, the message with its result)."""
        started = time.monotonic()
        ok, outcome = execute(action)
        elapsed = (time.monotonic() - started) * 1000
        self.approvals.finish(action.code, ok=ok, outcome=outcome)
        self._record(
            "approved", "ok" if ok else "error", action, result=outcome, duration_ms=elapsed
        )
        if ok:
            return ok, (
                f"✅ Approved `{action.code}`: ran `{action.tool}` on {action.server} once.\n\n"
                f"{fenced(pretty(action.arguments), 'json')}\n\nResult:\n{fenced(outcome)}"
            )
        return ok, (
            f"❌ Approved `{action.code}`, but `{action.tool}` on {action.server} failed:\n\n"
            f"{fenced(outcome)}\n\nThe code is used up; ask again for a new one once the "
            "problem is fixed."
        )

    def refuse_while_writes_off(self, code: str | None) -> str:
        """`approve` with writes turned off: nothing runs, and every pending code is cancelled."""
        self.revoke_all()
        self._record("approval_refused", "refused", approval_code=code, result=WRITES_OFF)
        return (
            "⛔ Writes are turned off for the incident agent (its `allow_writes` valve), so "
            "no action can be approved. Nothing was run, and every pending code is cancelled. "
            "Once an admin turns writes back on, ask the agent again for a new code."
        )

    def revoke_all(self) -> list[PendingAction]:
        """Deny every pending code, of every chat: a code issued while writes were on must not
        run once they are off, nor later when they are turned back on."""
        revoked = self.approvals.deny_all(WRITES_OFF)
        for action in revoked:
            self._record(
                "denied",
                "denied",
                action,
                user=action.user_id,
                chat=action.chat_id,
                result=WRITES_OFF,
            )
        return revoked

    def _record(
        self, event: str, outcome: str, action: PendingAction | None = None, **fields: Any
    ) -> None:
        """An audit entry by this user in this chat about `action`; `fields` add or override."""
        entry: dict[str, Any] = {"user": self.user, "chat": self.chat}
        if action is None:
            entry |= {"server": "", "tool": "", "arguments": {}}
        else:
            entry |= {
                "server": action.server,
                "tool": action.tool,
                "arguments": action.arguments,
                "approval_code": action.code,
            }
        self.audit.record(event=event, outcome=outcome, writes=True, **(entry | fields))
