"""The incident agent through a real `pipekit serve`, with the real MCP servers in front of the
fake cluster and fake Slack, and a scripted fake Ollama as the model.

Everything is module-scoped (a serve process and two MCP servers cost seconds on two cores);
each test uses its own chat id, and the fakes' records are cleared between tests.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipekit.testing.fake_ollama import FakeOllama, Reply
from pipekit.testing.server import PipekitServer
from pipekit.testing.slack import FakeSlack
from tests.mcp.conftest import openshift_stdio, slack_stdio
from tests.support.cluster import Cluster
from tests.support.owui import USER, answer_text, chat_body, events, send_turn

MODEL = "llama3.2:3b"
PIPE = "incident_agent"
BOB = {"id": "user-b", "name": "Bob", "email": "bob@example.com", "role": "user"}


@pytest.fixture(scope="module")
def model() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory, model) -> Iterator[PipekitServer]:
    data_dir = tmp_path_factory.mktemp("incident-serve")
    serve = PipekitServer(data_dir, env={"OLLAMA_BASE_URL": model.url, "PIPEKIT_MODEL": MODEL})
    serve.start()
    yield serve
    serve.stop()


@pytest.fixture(autouse=True)
def _fresh_records(request):
    """Each test starts with an empty script and no recorded posts or patches."""
    for name in ("model", "slack", "cluster"):
        if name in request.fixturenames:
            fake = request.getfixturevalue(name)
            if isinstance(fake, FakeOllama):
                fake.reset()
            elif isinstance(fake, FakeSlack):
                fake.posted.clear()
                fake.reactions.clear()
            else:
                fake.fake.patches.clear()
    yield


def stdio_servers(cluster: Cluster, slack: FakeSlack, *openshift_args: str) -> list[dict]:
    return [openshift_stdio(cluster, "openshift", *openshift_args), slack_stdio(slack)]


def set_valves(server: PipekitServer, **valves) -> dict:
    if isinstance(valves.get("mcp_servers"), list):
        valves["mcp_servers"] = json.dumps(valves["mcp_servers"])
    with server.client() as client:
        response = client.post(f"/{PIPE}/valves/update", json=valves)
    assert response.status_code == 200, response.text
    return response.json()


@dataclass
class Turn:
    answer: str
    statuses: list[str]


def say(server: PipekitServer, text: str, *, chat: str, user: dict | None = None) -> Turn:
    with server.client(timeout_s=120) as client:
        response = send_turn(client, chat_body(PIPE, text, chat_id=chat, user=user or USER))
    assert response.status_code == 200, response.text
    statuses = [e["data"]["description"] for e in events(response, "status")]
    return Turn(answer_text(response), statuses)


def code_in(answer: str) -> str:
    match = re.search(r"`approve ([A-Z0-9]{6})`", answer)
    assert match, f"no approval code in:\n{answer}"
    return match.group(1)


def call(tool: str, /, **arguments) -> Reply:
    return Reply(tool_calls=[{"name": tool, "arguments": arguments}])


def tool_results(model: FakeOllama) -> list[str]:
    """What the tools returned, as the model received it, in order."""
    last = model.bodies("/api/chat")[-1]
    return [m["content"] for m in last["messages"] if m["role"] == "tool"]


def audit_entries(server: PipekitServer) -> list[dict]:
    path = audit_path(server)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def audit_path(server: PipekitServer) -> Path:
    return server.data_dir.resolve() / "incident" / "audit.jsonl"


def expire(server: PipekitServer, code: str) -> None:
    """Move a code's expiry into the past, as if its time-to-live ran out."""
    database = server.data_dir.resolve() / "incident" / "approvals.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute("UPDATE pending_actions SET expires = expires - 86400 WHERE code = ?", (code,))
