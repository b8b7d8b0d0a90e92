"""Shared fixtures: real servers on free ports, fakes of outside services on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipekit.testing.dns import FakeDNS
from pipekit.testing.engines import PostgresCluster, binary, milvus_lite_server
from pipekit.testing.fake_ollama import FakeOllama
from pipekit.testing.fake_openai import FakeOpenAI
from pipekit.testing.kubernetes import FakeKubernetes
from pipekit.testing.server import PipekitServer, free_port
from pipekit.testing.slack import FakeSlack
from tests.support import real_model as real_model_tier
from tests.support.cluster import Cluster

ServerFactory = Callable[..., PipekitServer]
# Tests that use these fixtures are the real-model tier (`-m real_model`).
REAL_MODEL_FIXTURES = {"real_model", "smollm2_gguf"}
REAL_MODEL_TESTS = Path(__file__).with_name("real_model")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        uses = REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ()))
        if uses or REAL_MODEL_TESTS in item.path.parents:
            item.add_marker(pytest.mark.real_model)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start `pipekit serve` subprocesses; all are stopped when the test ends."""
    started: list[PipekitServer] = []

    def start(**options) -> PipekitServer:
        data_dir = options.pop("data_dir", None) or tmp_path / f"data-{len(started)}"
        server = PipekitServer(data_dir, **options)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def pipelines_dir(tmp_path: Path) -> Callable[..., Path]:
    """Write test pipeline scripts (name -> source) into a fresh folder for --extra-dir."""

    def write(**scripts: str) -> Path:
        folder = tmp_path / f"extra-{len(list(tmp_path.glob('extra-*')))}"
        folder.mkdir()
        for name, source in scripts.items():
            (folder / f"{name}.py").write_text(source, encoding="utf-8")
        return folder

    return write


@pytest.fixture
def milvus_server(tmp_path: Path) -> Iterator[str]:
    """A Milvus gRPC endpoint on 127.0.0.1 (Milvus Lite's server), for this test."""
    with milvus_lite_server(tmp_path / "milvus") as uri:
        yield uri


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A real PostgreSQL (Debian package `postgresql`) on a free 127.0.0.1 port, for the run."""
    if binary("initdb") is None:
        _missing("PostgreSQL", "postgresql")
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def database_url(postgres: PostgresCluster) -> str:
    """A fresh, empty PostgreSQL database of the session's cluster."""
    return postgres.new_database()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free 127.0.0.1 port (Debian package `redis-server`)."""
    server = shutil.which("redis-server")
    if server is None:
        _missing("redis-server", "redis-server")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path_factory.mktemp("redis"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for_redis(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _wait_for_redis(url: str, process: subprocess.Popen) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        try:
            if client.ping():
                return
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not answer within 15 s")


def _missing(what: str, package: str) -> None:
    if os.getenv("CI"):
        pytest.fail(f"{what} is not installed; CI must install the Debian package {package}")
    pytest.skip(f"{what} is not installed (apt-get install {package})")


# --- fakes of outside services (pipekit.testing), a fresh one per test unless shared ---------


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The fake Kubernetes API with its scenarios, and a kubeconfig pointing at it."""
    with FakeKubernetes() as fake:
        yield Cluster(fake, fake.kubeconfig(tmp_path_factory.mktemp("kube") / "config"))


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def dns() -> Iterator[FakeDNS]:
    """Host names resolve as the test says; routed "public" addresses reach fakes on loopback."""
    with FakeDNS() as fake:
        yield fake


# --- the real-model tier: SmolLM2-135M served by llama.cpp (scripts/install-real-model.sh) -----


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct's GGUF; skips (or fails in CI) when the tier is not installed."""
    return real_model_tier.smollm2_gguf()


@pytest.fixture(scope="session")
def real_model() -> Iterator[real_model_tier.LlamaServer]:
    """llama.cpp's OpenAI-compatible server with SmolLM2 on a free 127.0.0.1 port, one for
    the session: `.url` ends in /v1, `.model` is the name to ask for."""
    server = real_model_tier.start_llama_server()
    yield server
    server.stop()
