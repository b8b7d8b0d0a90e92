"""`rag_search` in an agent: documents ingested with `pipekit ingest`, searched by the agent,
numbered in the same sequence as web results."""

from __future__ import annotations

import re
import subprocess

from pipekit.testing.fake_base import Reply
from pipekit.testing.search import DEFAULT_RESULTS, FakeSearch
from pipekit.testing.server import PIPEKIT
from tests.agents.conftest import answer_text, source_urls, statuses
from tests.support.owui import chat_body, events, send_turn

RUNBOOK = """# Restarting checkout

When the checkout service crash-loops with OOMKilled, raise its memory limit to 512Mi and
run a rollout restart of deployment/checkout.
"""


def test_agent_searches_documents_and_web_with_one_numbering(start_server, fake_ollama, tmp_path):
    docs = tmp_path / "runbooks"
    docs.mkdir()
    (docs / "checkout.md").write_text(RUNBOOK, encoding="utf-8")
    data = tmp_path / "data"
    subprocess.run(
        [*PIPEKIT, "ingest", str(docs), "-c", "runbooks", "--data-dir", str(data)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    with FakeSearch("searxng") as searxng:
        server = start_server(
            data_dir=data,
            env={"OLLAMA_BASE_URL": fake_ollama.url, "SEARXNG_URL": searxng.url},
        )
        with server.client() as client:
            client.post(
                "/react_agent/valves/update", json={"collections": ["runbooks"]}
            ).raise_for_status()
        fake_ollama.script(
            Reply(tool_calls=[{"name": "web_search", "arguments": {"query": "checkout oom"}}]),
            Reply(
                tool_calls=[{"name": "rag_search", "arguments": {"query": "checkout OOMKilled"}}]
            ),
            Reply(content="Raise the memory limit to 512Mi [4]; background in [1]."),
        )
        with server.client(timeout_s=120) as client:
            response = send_turn(client, chat_body("react_agent", "checkout is OOMKilled, help"))

    bodies = fake_ollama.bodies("/api/chat")
    assert "rag_search" in {t["function"]["name"] for t in bodies[0]["tools"]}
    passages = bodies[2]["messages"][-1]["content"]
    # After web results [1]-[3] the passage is [4], not a second [1].
    assert re.search(r"^\[4\] .*Restarting checkout", passages, re.M), passages
    assert "512Mi" in passages
    assert "Searching the documents for checkout OOMKilled" in statuses(response)
    names = [e["data"]["source"]["name"] for e in events(response, "source")]
    assert "Restarting checkout" in names[-1] and len(names) == 4
    assert source_urls(response)[:3] == [r["url"] for r in DEFAULT_RESULTS]
    sources = answer_text(response).split("**Sources**", 1)[1].split("<details>", 1)[0]
    assert f"**1.** [Python 3.13 released](<{DEFAULT_RESULTS[0]['url']}>)" in sources
    assert re.search(r"^\*\*4\.\*\* .*Restarting checkout", sources, re.M), sources
