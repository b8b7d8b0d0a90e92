"""pytest fixtures for the fake model servers: a fresh one per test.

Loaded by the root conftest with `pytest_plugins = ["tests.fakes.fixtures"]`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipekit.testing.fake_ollama import FakeOllama
from pipekit.testing.fake_openai import FakeOpenAI


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake
