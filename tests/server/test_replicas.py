"""Two `pipekit serve` replicas on one PostgreSQL and one Milvus server agree: valves, approval
codes, ingest runs and uploads are the same whichever replica a request lands on."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from pipekit.embeddings import make_embedder
from pipekit.rag.index import RagIndex
from pipekit.rag.store import StoreConfig
from pipekit.rag.uploads import chat_collection_name
from pipekit.stores import Database
from pipekit.testing.engines import milvus_lite_server
from pipekit.testing.fake_ollama import FakeOllama, Reply
from pipekit.testing.server import PipekitServer
from tests.incident.conftest import call, code_in, say, set_valves, stdio_servers
from tests.rag import test_rag_pipe
from tests.rag.test_rag_pipe import ALICE_FILE, OWUI_KEY, upload
from tests.support.owui import USER, answer_text, chat_body, send_turn

MODEL = "llama3.2:3b"
SLACK_TEXT = "checkout in shop is crash-looping. Investigating."


@pytest.fixture(scope="module")
def model() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture(scope="module")
def shared(postgres, tmp_path_factory) -> Iterator[dict[str, str]]:
    """The environment both replicas share: the database and the Milvus server."""
    with milvus_lite_server(tmp_path_factory.mktemp("milvus")) as milvus:
        yield {"PIPEKIT_DATABASE_URL": postgres.new_database(), "MILVUS_URI": milvus}


@pytest.fixture(scope="module")
def replicas(shared, model, tmp_path_factory) -> Iterator[tuple[PipekitServer, PipekitServer]]:
    env = shared | {"OLLAMA_BASE_URL": model.url, "PIPEKIT_MODEL": MODEL}
    pair = tuple(
        PipekitServer(tmp_path_factory.mktemp(f"replica-{name}"), env=env).start() for name in "ab"
    )
    yield pair  # type: ignore[misc]
    for server in pair:
        server.stop()


@pytest.fixture(autouse=True)
def _fresh_model(model):
    model.reset()


def valves_of(server: PipekitServer, pipeline: str) -> dict:
    with server.client() as client:
        return client.get(f"/{pipeline}/valves").json()


def test_a_valve_saved_through_one_replica_is_in_force_on_the_other(replicas, model):
    a, b = replicas
    with a.client() as client:
        saved = client.post("/chat/valves/update", json={"system_prompt": "Answer like a pirate."})
    assert saved.status_code == 200, saved.text
    assert valves_of(b, "chat")["system_prompt"] == "Answer like a pirate."
    model.script(Reply(content="Arr."))
    with b.client() as client:
        send_turn(client, chat_body("chat", "Hello?")).raise_for_status()
    system = model.bodies("/api/chat")[-1]["messages"][0]
    assert system == {"role": "system", "content": "Answer like a pirate."}
    # Not even its own data dir holds it: the database does.
    assert not list(b.data_dir.rglob("valves.json")) and not list(a.data_dir.rglob("valves.json"))


def test_a_partial_update_on_one_replica_keeps_what_the_other_saved(replicas):
    a, b = replicas
    with a.client() as client:
        client.post("/chat/valves/update", json={"temperature": 0.2}).raise_for_status()
    with b.client() as client:
        client.post("/chat/valves/update", json={"max_tokens": 99}).raise_for_status()
    for server in (a, b):
        assert {k: valves_of(server, "chat")[k] for k in ("temperature", "max_tokens")} == {
            "temperature": 0.2,
            "max_tokens": 99,
        }


@pytest.fixture
def incident(replicas, cluster, slack):
    set_valves(
        replicas[0], mcp_servers=stdio_servers(cluster, slack), collections=[], allow_writes=True
    )
    slack.posted.clear()
    return replicas


def propose_on(server: PipekitServer, model: FakeOllama, chat: str, text: str = SLACK_TEXT) -> str:
    model.script(
        call("post_message", channel="#incidents", text=text),
        Reply(content="I drafted a Slack message for #incidents."),
    )
    return code_in(say(server, "[FIRING] KubePodCrashLooping shop/checkout", chat=chat).answer)


def test_a_code_issued_by_one_replica_runs_once_when_both_get_approve_at_once(
    incident, model, slack
):
    a, b = incident
    code = propose_on(a, model, "replicas-race")
    answers: list[str] = []
    barrier = threading.Barrier(2)

    def approve(server: PipekitServer) -> None:
        barrier.wait()
        answers.append(say(server, f"approve {code}", chat="replicas-race").answer)

    threads = [threading.Thread(target=approve, args=(server,)) for server in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(f"✅ Approved `{code}`" in answer for answer in answers) == 1
    assert sum("cannot be used" in answer for answer in answers) == 1
    assert len(slack.posted) == 1


open_webui_files = test_rag_pipe.open_webui_files


def test_an_upload_indexed_on_one_replica_is_searchable_from_the_other(
    replicas, model, open_webui_files, shared, tmp_path, monkeypatch
):
    a, b = replicas
    with a.client() as client:
        client.post(
            "/rag/valves/update",
            json={
                "openwebui_url": f"http://127.0.0.1:{open_webui_files.server_address[1]}",
                "openwebui_api_key": OWUI_KEY,
                "collections": "",
            },
        ).raise_for_status()
    model.script(Reply(content="45 seconds [1]."), Reply(content="Still 45 seconds [1]."))
    turn = chat_body("rag", "What is the payment gateway timeout?", chat_id="shared-upload",
                     files=[upload(ALICE_FILE)])  # fmt: skip
    with a.client(timeout_s=120) as client:
        send_turn(client, turn).raise_for_status()
    # Open WebUI no longer serves the file: B can only find what A indexed.
    monkeypatch.delitem(test_rag_pipe.UPLOADS, ALICE_FILE)
    with b.client(timeout_s=120) as client:
        response = send_turn(client, turn)
    assert answer_text(response).startswith("Still 45 seconds")
    assert "45 seconds" in model.bodies("/api/chat")[-1]["messages"][-1]["content"]
    # Any process on the shared stores finds it, its own data dir empty.
    monkeypatch.setenv("PIPEKIT_DATABASE_URL", shared["PIPEKIT_DATABASE_URL"])
    index = RagIndex(tmp_path / "elsewhere", StoreConfig(uri=shared["MILVUS_URI"]))
    try:
        name = chat_collection_name(USER["id"], "shared-upload")
        [info] = index.readable_collections([name], USER["id"], "shared-upload")
        passages = index.search([info], "payment gateway timeout", make_embedder("local"))
        assert "45 seconds" in passages[0].text
    finally:
        index.close()


def test_a_second_ingest_of_a_collection_says_where_the_first_runs(shared, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("# A\n\nSome text.", encoding="utf-8")
    with Database(shared["PIPEKIT_DATABASE_URL"]).lock("ingest of runbooks"):
        refused = subprocess.run(
            [sys.executable, "-m", "pipekit.cli", "ingest", str(corpus), "-c", "runbooks",
             "--data-dir", str(tmp_path / "data"), "--wait", "1"],
            env={**os.environ, **shared}, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert refused.returncode == 2
    assert "ingest of runbooks is running on " in refused.stderr and " since " in refused.stderr
    assert "Run this again once it is done" in refused.stderr


def test_an_approval_in_flight_when_its_replica_dies_is_decided_on_the_other(
    incident, model, slack
):
    a, b = incident
    first = propose_on(a, model, "replica-dies")
    second = propose_on(a, model, "replica-dies", text="Update: checkout is restarting.")
    a.process.kill()  # no shutdown: as a node lost
    a.process.wait()
    try:
        assert f"Denied `{first}`" in say(b, f"deny {first}", chat="replica-dies").answer
        assert f"✅ Approved `{second}`" in say(b, f"approve {second}", chat="replica-dies").answer
        assert len(slack.posted) == 1
    finally:
        a.start()
