"""pytest fixtures for the fake model servers: a fresh one per test.

Loaded by the root conftest with `pytest_plugins = ["tests.fakes.fixtures"]`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipekit.testing.fake_ollama import FakeOllama
from pipekit.testing.fake_openai import FakeOpenAI
from pipekit.testing.kubernetes import FakeKubernetes
from pipekit.testing.slack import FakeSlack


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@dataclass
class Cluster:
    fake: FakeKubernetes
    kubeconfig: Path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The fake Kubernetes API with its scenarios, and a kubeconfig pointing at it."""
    with FakeKubernetes() as fake:
        yield Cluster(fake, fake.kubeconfig(tmp_path_factory.mktemp("kube") / "config"))


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake
