"""The approval flow in-process: each step's audit entry comes from the pending action, and
names who acted, in which chat."""

from __future__ import annotations

import pytest

from pipekit.incident.approvals import ApprovalStore
from pipekit.incident.audit import AuditLog
from pipekit.incident.flow import ApprovalFlow
from pipekit.tools import Tool

SCALE = Tool(
    name="deployment_scale",
    description="Scale a deployment.",
    parameters={"type": "object", "properties": {}},
    run=lambda **arguments: "scaled",
    writes=True,
    server="openshift",
    remote_name="scale",
)
ARGUMENTS = {"namespace": "web", "name": "nginx", "replicas": 3}


@pytest.fixture
def stores(tmp_path) -> tuple[ApprovalStore, AuditLog]:
    return ApprovalStore(tmp_path), AuditLog(tmp_path)


def fields(entry: dict) -> tuple:
    return (
        entry["event"],
        entry["user"],
        entry["chat"],
        entry["server"],
        entry["tool"],
        entry.get("approval_code"),
    )


def test_each_step_is_audited_from_the_pending_action(stores):
    alice = ApprovalFlow(*stores, "alice", "chat-1")
    note = alice(SCALE, ARGUMENTS)
    [action] = alice.proposed
    assert action.remote_tool == "scale" and f"pending action {action.code}" in note
    assert "approve" in alice.approval_blocks() and action.code in alice.approval_blocks()

    bob = ApprovalFlow(*stores, "bob", "chat-2")
    assert bob.claim(action.code)[0] is None
    ran, message = alice.run(alice.claim(action.code)[0], lambda pending: (True, "scaled"))
    assert ran and message.startswith(f"✅ Approved `{action.code}`")

    entries = stores[1].entries()
    assert [fields(e) for e in entries] == [
        ("proposed", "alice", "chat-1", "openshift", "deployment_scale", action.code),
        ("approval_refused", "bob", "chat-2", "openshift", "deployment_scale", action.code),
        ("approved", "alice", "chat-1", "openshift", "deployment_scale", action.code),
    ]
    assert all(e["writes"] and e["arguments"] == ARGUMENTS for e in entries)
    assert entries[1]["result"] == "issued to another user"


def test_without_ids_a_write_is_refused_and_audited_with_its_arguments(stores):
    flow = ApprovalFlow(*stores)
    assert flow(SCALE, ARGUMENTS).startswith("Refused: deployment_scale needs a human's approval")
    assert flow.proposed == []
    [entry] = stores[1].entries()
    assert (entry["event"], entry["arguments"], "approval_code" in entry) == (
        "refused",
        ARGUMENTS,
        False,
    )
