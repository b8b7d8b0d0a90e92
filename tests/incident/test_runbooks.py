"""Runbook search through pipekit.rag: a runbook ingested with `pipekit ingest` is what the
agent's rag_search tool finds during an investigation."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipekit.testing.fake_ollama import Reply
from pipekit.testing.server import PIPEKIT, PipekitServer

from .conftest import MODEL, call, say, set_valves, stdio_servers, tool_results

pytest.importorskip("pipekit.agents.rag_search")

RUNBOOKS = Path(__file__).parent / "runbooks"


@pytest.fixture(scope="module")
def server(tmp_path_factory, model):
    """A serve process whose data dir already holds the `runbooks` collection."""
    data_dir = tmp_path_factory.mktemp("incident-runbooks")
    ingest = subprocess.run(
        [
            *PIPEKIT,
            "ingest",
            str(RUNBOOKS),
            "--collection",
            "runbooks",
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ingest.returncode == 0, ingest.stderr
    serve = PipekitServer(data_dir, env={"OLLAMA_BASE_URL": model.url, "PIPEKIT_MODEL": MODEL})
    serve.start()
    yield serve
    serve.stop()


def test_the_agent_finds_the_runbook_for_the_error_it_saw(server, model, cluster, slack):
    set_valves(server, mcp_servers=stdio_servers(cluster, slack), collections=["runbooks"])
    model.script(
        call("pods_log", namespace="shop", name="checkout-7d9f8c6b5-x7k2p", previous=True),
        call("rag_search", query="required environment variable DATABASE_URL is not set"),
        Reply(content="Per the runbook: restore DATABASE_URL in the checkout-db secret."),
    )
    turn = say(server, "checkout pods keep restarting in shop", chat="runbook-1")
    log, runbook = tool_results(model)
    assert "DATABASE_URL is not set" in log
    assert "checkout-db" in runbook and "shop/checkout/db" in runbook
    assert turn.answer.startswith("Per the runbook")
    offered = {t["function"]["name"] for t in model.bodies("/api/chat")[0]["tools"]}
    assert {"rag_search", "pods_log"} <= offered
