"""Shared fixtures: real servers on free ports, fakes of outside services on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipekit.testing.dns import FakeDNS
from pipekit.testing.fake_ollama import FakeOllama
from pipekit.testing.fake_openai import FakeOpenAI
from pipekit.testing.kubernetes import FakeKubernetes
from pipekit.testing.server import PipekitServer, free_port
from pipekit.testing.slack import FakeSlack
from tests.support.cluster import Cluster

ServerFactory = Callable[..., PipekitServer]


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
    """A Milvus gRPC endpoint on 127.0.0.1: Milvus Lite's standalone server speaks the protocol
    pymilvus speaks to a Milvus cluster, so the `MILVUS_URI` code path runs unchanged."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(tmp_path / "milvus"),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "no Milvus"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


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
