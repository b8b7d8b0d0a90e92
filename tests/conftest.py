"""Shared fixtures: real servers on free ports, fakes of outside services on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.server import PipekitServer, free_port

pytest_plugins = ["tests.fakes.fixtures"]

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
