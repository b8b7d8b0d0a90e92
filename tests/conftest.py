"""Shared fixtures: real servers on free ports, fakes of outside services on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.server import PipekitServer

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
