"""Session fixtures: one fake model, one `pipekit serve`, one Open WebUI, for all e2e tests.

Every test under tests/e2e is marked `e2e`. Pipes in pipelines/ (and filters in filters/) are
served as users get them; test-only pipes go in tests/e2e/pipelines/. A later test that needs
more environment for the server (a fake's URL, a store path) extends `pipelines_env`.

The server's data dir gets the `docs` collection (tests/e2e/corpus, through `pipekit ingest` as
a user runs it) before the server starts, and its web search goes to a fake SearXNG.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipekit.testing.fake_ollama import FakeOllama
from pipekit.testing.search import FakeSearch
from pipekit.testing.server import PIPEKIT, PipekitServer

from .harness import (
    ARTIFACTS,
    Browser,
    OpenWebUI,
    Toolchain,
    require_toolchain,
    start_pipelines_server,
)

TEST_PIPELINES = Path(__file__).with_name("pipelines")
RAG_CORPUS = Path(__file__).with_name("corpus")
RAG_COLLECTION = "docs"
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
def e2e_searxng(e2e_toolchain: Toolchain) -> Iterator[FakeSearch]:
    """The session's fake SearXNG; every query gets the same three Python 3.13 results."""
    with FakeSearch("searxng") as fake:
        yield fake


@pytest.fixture
def searxng(e2e_searxng: FakeSearch) -> FakeSearch:
    """The session's fake SearXNG with no recorded requests."""
    e2e_searxng.requests.clear()
    return e2e_searxng


@pytest.fixture(scope="session")
def pipelines_env(e2e_ollama: FakeOllama, e2e_searxng: FakeSearch) -> dict[str, str]:
    """Environment of the session's `pipekit serve`: every pipe's model points at the fake,
    and the agents' web search at the fake SearXNG."""
    return {
        "OLLAMA_BASE_URL": e2e_ollama.url,
        "PIPEKIT_MODEL": E2E_MODEL,
        "SEARXNG_URL": e2e_searxng.url,
    }


def ingest_corpus(data_dir: Path, env: dict[str, str]) -> None:
    """`pipekit ingest` into the server's data dir, as a user does before starting it."""
    command = [
        *PIPEKIT, "ingest", str(RAG_CORPUS),
        "--collection", RAG_COLLECTION, "--data-dir", str(data_dir),
    ]  # fmt: skip
    completed = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"pipekit ingest failed (exit {completed.returncode}):\n"
            f"{completed.stdout[-2000:]}\n{completed.stderr[-4000:]}"
        )


@pytest.fixture(scope="session")
def pipelines_server(
    e2e_toolchain: Toolchain,
    pipelines_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PipekitServer]:
    data_dir = tmp_path_factory.mktemp("pipekit-data")
    ingest_corpus(data_dir, pipelines_env)
    server = start_pipelines_server(data_dir, [TEST_PIPELINES], env=pipelines_env)
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
        env={
            # The RAG pipe reads chat uploads from Open WebUI with an admin's API key.
            "ENABLE_API_KEYS": "True",
            # Open WebUI keeps the uploads' text without embedding them: the pipes do RAG.
            "BYPASS_EMBEDDING_AND_RETRIEVAL": "True",
            # Without this, attaching a file first sends the pipe a background query task.
            "ENABLE_RETRIEVAL_QUERY_GENERATION": "False",
        },
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
