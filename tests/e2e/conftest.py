"""Session fixtures: one fake model, one `pipekit serve`, one Open WebUI, for all e2e tests.

Every test under tests/e2e is marked `e2e`. Pipes in pipelines/ (and filters in filters/) are
served as users get them; test-only pipes go in tests/e2e/pipelines/. A later test that needs
more environment for the server (a fake's URL, a store path) extends `pipelines_env`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipekit.testing.fake_ollama import FakeOllama
from pipekit.testing.server import PipekitServer

from .harness import (
    ARTIFACTS,
    Browser,
    OpenWebUI,
    Toolchain,
    require_toolchain,
    start_pipelines_server,
)

TEST_PIPELINES = Path(__file__).with_name("pipelines")
E2E_MODEL = "llama3.2:3b"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def e2e_toolchain() -> Toolchain:
    return require_toolchain()


@pytest.fixture(scope="session")
def e2e_ollama(e2e_toolchain: Toolchain) -> Iterator[FakeOllama]:
    """The session's fake Ollama; unscripted, it answers "You said: <last user message>"."""
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake_model(e2e_ollama: FakeOllama) -> FakeOllama:
    """The session's fake Ollama with no leftover script or recorded requests."""
    e2e_ollama.reset()
    return e2e_ollama


@pytest.fixture(scope="session")
def pipelines_env(e2e_ollama: FakeOllama) -> dict[str, str]:
    """Environment of the session's `pipekit serve`: every pipe's model points at the fake."""
    return {"OLLAMA_BASE_URL": e2e_ollama.url, "PIPEKIT_MODEL": E2E_MODEL}


@pytest.fixture(scope="session")
def pipelines_server(
    e2e_toolchain: Toolchain,
    pipelines_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PipekitServer]:
    server = start_pipelines_server(
        tmp_path_factory.mktemp("pipekit-data"), [TEST_PIPELINES], env=pipelines_env
    )
    yield server
    server.stop()
    _keep_log(server.log_path, "pipekit-serve.log")


@pytest.fixture(scope="session")
def open_webui(
    e2e_toolchain: Toolchain,
    pipelines_server: PipekitServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OpenWebUI]:
    owui = OpenWebUI(
        e2e_toolchain,
        tmp_path_factory.mktemp("owui-data"),
        openai_url=pipelines_server.url,
        openai_key=pipelines_server.api_key,
    ).start()
    yield owui
    owui.stop()
    _keep_log(owui.log_path, "open-webui.log")


@pytest.fixture(scope="session")
def browser(e2e_toolchain: Toolchain, open_webui: OpenWebUI) -> Browser:
    return Browser(e2e_toolchain, open_webui.url)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """On failure, show the tails of the server logs next to the assertion."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    owui = funcargs.get("open_webui")
    server = funcargs.get("pipelines_server")
    if owui is not None:
        report.sections.append(("Open WebUI log (tail)", owui.log()[-6000:]))
    if server is not None:
        report.sections.append(("pipekit serve log (tail)", server.log()[-6000:]))


def _keep_log(path: Path, name: str) -> None:
    if path.exists():
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, ARTIFACTS / name)
