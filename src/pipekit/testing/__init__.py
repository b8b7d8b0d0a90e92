"""Fakes of outside services that speak their real wire protocol, and a serve subprocess.

The one home for fakes, used by the tests, `pipekit bench` and `pipekit fake-ollama`:

- `http_fake`: `HTTPFake`, the server under every fake (127.0.0.1, a thread, request log,
  `stall()`, `refuse()`)
- `fake_base`, `fake_ollama`, `fake_openai`: model servers with scripted `Reply`s
- `scripted_incident`: the incident bench's stand-in model
- `kubernetes/`: the Kubernetes/OpenShift API with the incident scenarios
- `slack`, `search`: the Slack Web API; SearXNG, Tavily, Brave and a web site
- `dns`: a resolver under the test's control
- `server`: `pipekit serve` as a subprocess on a free port
- `engines`: real PostgreSQL and Milvus Lite servers, throwaway, on free ports

`from pipekit.testing import FakeOllama, Reply` — loaded on first use, so that importing
`pipekit.testing.server` does not pull in the fakes' web server.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "HTTPFake": "pipekit.testing.http_fake",
    "FakeOllama": "pipekit.testing.fake_ollama",
    "FakeOpenAI": "pipekit.testing.fake_openai",
    "Reply": "pipekit.testing.fake_base",
    "FakeKubernetes": "pipekit.testing.kubernetes",
    "FakeSlack": "pipekit.testing.slack",
    "FakeSearch": "pipekit.testing.search",
    "FakeWeb": "pipekit.testing.search",
    "FakeDNS": "pipekit.testing.dns",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
