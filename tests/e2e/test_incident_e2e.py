"""The incident agent in real Open WebUI: a write is only proposed, with a one-time code;
it runs once the user types `approve CODE` in the same chat.

The agent's MCP servers are pipekit's own (`pipekit mcp openshift|slack` over stdio) in front
of the fake Kubernetes API and the fake Slack, set through Open WebUI's pipelines valves API
as an admin does in Admin Panel → Settings → Pipelines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipekit.incident.pipe import IncidentPipe
from pipekit.testing.fake_ollama import FakeOllama, Reply
from pipekit.testing.kubernetes import FakeKubernetes
from pipekit.testing.server import PIPEKIT
from pipekit.testing.slack import TOKEN, FakeSlack

from .harness import Browser, OpenWebUI

pytestmark = pytest.mark.e2e

PIPE = "incident_agent"
ALERT = "[FIRING] KubePodCrashLooping shop/checkout"
SLACK_TEXT = "checkout in shop is crash-looping: DATABASE_URL is not set. Investigating."
# What the user reads in the answer and types back; the code is six capitals or digits.
APPROVE = re.compile(r"\bapprove ([A-Z0-9]{6})\b")


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="module")
def cluster_kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with FakeKubernetes() as fake:
        yield fake.kubeconfig(tmp_path_factory.mktemp("kube") / "config")


@pytest.fixture(scope="module")
def incident_agent(
    open_webui: OpenWebUI, slack: FakeSlack, cluster_kubeconfig: Path
) -> Iterator[str]:
    """The incident agent wired to the fakes through the admin API; defaults restored after."""
    servers = [
        {
            "name": "openshift",
            "command": PIPEKIT[0],
            "args": [*PIPEKIT[1:], "mcp", "openshift", "--kubeconfig", str(cluster_kubeconfig)],
        },
        {
            "name": "slack",
            "command": PIPEKIT[0],
            "args": [*PIPEKIT[1:], "mcp", "slack"],
            "env": {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url},
        },
    ]
    open_webui.save_pipeline_valves(
        PIPE,
        {"mcp_servers": json.dumps(servers), "collections": [], "allow_writes": True},
    )
    yield PIPE
    open_webui.save_pipeline_valves(PIPE, IncidentPipe.Valves().model_dump())


def test_slack_post_runs_only_after_the_user_approves_the_code(
    browser: Browser, fake_model: FakeOllama, slack: FakeSlack, incident_agent: str
):
    slack.posted.clear()
    fake_model.script(
        Reply(
            tool_calls=[
                {
                    "name": "post_message",
                    "arguments": {"channel": "#incidents", "text": SLACK_TEXT},
                }
            ]
        ),
        Reply(content="I drafted a Slack message for #incidents."),
    )

    proposed = browser.chat(
        incident_agent,
        ALERT,
        screenshot="incident-approval-asked.png",
        wait_for=["Proposed post_message: waiting for approval"],
    )

    assert "Approval needed: nothing has changed yet" in proposed.answer
    assert SLACK_TEXT in proposed.answer  # the exact action is shown before it runs
    match = APPROVE.search(proposed.answer)
    assert match, f"no approval code in the answer:\n{proposed.answer}"
    code = match.group(1)
    assert slack.posted == []  # proposed, not run

    approved = browser.chat(
        incident_agent,
        f"approve {code}",
        in_chat=proposed.page_url,
        screenshot="incident-approved.png",
    )

    assert f"Approved {code}" in approved.answer
    assert "Posted to #incidents" in approved.answer
    assert [(post["channel"], post["text"]) for post in slack.posted] == [
        ("C0INCIDENT", SLACK_TEXT)
    ]
    # The decision is the pipe's: the model was asked nothing more after proposing.
    assert len(fake_model.bodies("/api/chat")) == 2
