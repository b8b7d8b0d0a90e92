"""Fakes of outside services that speak their real wire protocol, and a serve subprocess.

`from pipekit.testing import FakeOllama, FakeOpenAI, Reply` — loaded on first use, so that
importing `pipekit.testing.server` does not pull in the fakes' web server.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "FakeOllama": "pipekit.testing.fake_ollama",
    "FakeOpenAI": "pipekit.testing.fake_openai",
    "Reply": "pipekit.testing.fake_base",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
