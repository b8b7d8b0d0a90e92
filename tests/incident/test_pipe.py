"""IncidentPipe's decisions in-process, with valves set as a server load sets them (from
valves.json, without `on_valves_updated`) and the MCP call replaced."""

from __future__ import annotations

import logging

import pytest

from pipekit.incident import IncidentPipe
from pipekit.incident.flow import WRITES_OFF
from pipekit.pipe import ChatRequest

SCALE = {"namespace": "web", "name": "nginx", "replicas": 3}


@pytest.fixture
def pipe(tmp_path) -> IncidentPipe:
    return IncidentPipe(data_dir=tmp_path)


def propose_scale(pipe: IncidentPipe) -> str:
    approvals, _ = pipe.stores()
    return approvals.propose(
        tool="deployment_scale", server="openshift", remote_tool="deployment_scale",
        arguments=SCALE, user_id="alice", chat_id="chat-1", ttl_s=900,
    ).code  # fmt: skip


def say(pipe: IncidentPipe, text: str) -> str:
    request = ChatRequest(
        model_id="incident_agent",
        messages=[{"role": "user", "content": text}],
        user={"id": "alice"},
        chat_id="chat-1",
    )
    return "".join(item for item in pipe.run(request) if isinstance(item, str))


def test_code_issued_before_a_restart_cannot_run_once_writes_are_off(pipe, monkeypatch):
    code = propose_scale(pipe)  # issued while writes were on
    pipe.valves = pipe.Valves(allow_writes=False)  # the restart loads valves.json, nothing more
    ran = []
    monkeypatch.setattr(pipe, "execute", lambda action: ran.append(action) or (True, "scaled"))

    answer = say(pipe, f"approve {code}")
    assert "Writes are turned off" in answer and "Nothing was run" in answer
    assert ran == []
    approvals, audit = pipe.stores()
    assert approvals.get(code).status == "denied"
    assert [(e["event"], e["result"]) for e in audit.entries()] == [
        ("denied", WRITES_OFF),
        ("approval_refused", WRITES_OFF),
    ]
    # Writes on again: the old code stays dead.
    pipe.valves = pipe.Valves(allow_writes=True)
    assert "cannot be used" in say(pipe, f"approve {code}")
    assert ran == []


class BrokenClient:
    def call(self, *args, **kwargs):
        raise RuntimeError("connection reset")


def test_codes_stay_out_of_the_log_at_every_level(pipe, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(pipe, "mcp", BrokenClient)
    code = propose_scale(pipe)
    say(pipe, "approve ZZZZZZ")
    assert "failed" in say(pipe, f"approve {code}")
    assert any(r.levelno == logging.ERROR for r in caplog.records)  # the failure is logged
    assert code not in caplog.text
