"""A shared store that is down when the server starts: the server starts anyway, says which
store is unreachable (status, readiness, the chat of a pipe that needs it), and recovers by
itself when the store comes back."""

from __future__ import annotations

import shutil
import subprocess
import time

import httpx
import pytest

from pipekit.testing.engines import PostgresCluster, binary
from pipekit.testing.server import free_port
from tests.conftest import _wait_for_redis
from tests.support.owui import answer_text, chat_body, send_turn


def stores(server) -> dict:
    with server.client() as client:
        return client.get("/pipekit/status").json()["stores"]


def ready(server) -> httpx.Response:
    with server.client() as client:
        return client.get("/pipekit/ready")


def ask(server, pipeline: str, text: str) -> str:
    with server.client(timeout_s=120) as client:
        return answer_text(send_turn(client, chat_body(pipeline, text, chat_id="faults")))


def eventually(check, timeout_s: float = 30.0):
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture
def late_database():
    """A PostgreSQL that is not running yet (started by the test)."""
    if binary("initdb") is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    cluster = PostgresCluster()
    yield cluster
    cluster.remove()


def test_database_down_at_start_is_reported_and_recovered_from(start_server, late_database):
    server = start_server(env={"PIPEKIT_DATABASE_URL": late_database.url})
    where = f"postgresql://127.0.0.1:{late_database.port}/postgres"
    database = stores(server)["database"]
    assert database["where"] == where and not database["reachable"]
    assert f"The database at {where} is not reachable" in database["error"]
    assert "pipekit@" not in str(database)  # never the credentials
    assert stores(server)["redis"]["reachable"]  # not configured: this process's memory
    assert ready(server).status_code == 503
    # A pipe that needs it says so in the chat; a valve cannot be saved.
    assert f"⚠️ The database at {where} is not reachable" in ask(
        server, "incident_agent", "approve ABCDEF"
    )
    with server.client() as client:
        refused = client.post("/chat/valves/update", json={"temperature": 0.1})
    assert refused.status_code == 503 and "Valves not changed" in refused.json()["detail"]

    late_database.start()
    assert eventually(lambda: _reachable(server))
    assert ready(server).json()["ready"] is True
    with server.client() as client:
        client.post("/chat/valves/update", json={"temperature": 0.1}).raise_for_status()
    assert "cannot be used" in ask(server, "incident_agent", "approve ABCDEF")


def _reachable(server) -> bool:
    assert stores(server)["database"]["reachable"]
    return True


def test_redis_down_at_start_is_reported_filters_keep_working_and_it_recovers(start_server):
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    url = f"redis://:secret-word@127.0.0.1:{port}/0"
    server = start_server(env={"PIPEKIT_REDIS_URL": url})
    redis = stores(server)["redis"]
    assert not redis["reachable"] and redis["where"] == f"redis://127.0.0.1:{port}/0"
    assert "secret-word" not in str(redis)
    body = chat_body("chat", "Mail me at alice@example.com")
    with server.client() as client:
        masked = client.post("/pii/filter/inlet", json={"body": body, "user": body["user"]})
    assert masked.status_code == 200 and "[EMAIL_1]" in str(masked.json()["messages"])

    process = subprocess.Popen(
        [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--requirepass", "secret-word"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_redis(url, process)
        assert eventually(lambda: _redis_reachable(server))
        assert ready(server).status_code == 200
    finally:
        process.terminate()
        process.wait(10)


def _redis_reachable(server) -> bool:
    assert stores(server)["redis"]["reachable"]
    return True
