"""One `pipekit serve` for the guard-filter tests, serving the repo's six filter scripts.

The scripts are copied from `filters/` (with the chat pipe) into a folder served with
`--no-bundled`, so work in progress elsewhere in the tree cannot change these results. The
server is shared by the package; each test gets the valves reset afterwards and uses its own
user and chat ids, so in-memory state (rate-limit windows, PII tables) does not leak between
tests.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import httpx
import pytest

from pipekit.testing.server import PipekitServer
from tests.support import REPO

FILTERS = (
    "usage_metrics",
    "rate_limit",
    "prompt_injection",
    "topic_guard",
    "harmful_output",
    "pii",
)


@pytest.fixture(scope="package")
def guard_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipekitServer]:
    folder = tmp_path_factory.mktemp("guard-scripts")
    for name in FILTERS:
        shutil.copy(REPO / "filters" / f"{name}.py", folder)
    shutil.copy(REPO / "pipelines" / "chat.py", folder)
    server = PipekitServer(
        tmp_path_factory.mktemp("guard-data"), extra_dirs=(folder,), args=("--no-bundled",)
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def default_valves(guard_server: PipekitServer) -> dict[str, dict]:
    with guard_server.client() as http:
        return {name: http.get(f"/{name}/valves").json() for name in (*FILTERS, "chat")}


@pytest.fixture
def client(
    guard_server: PipekitServer, default_valves: dict[str, dict], request: pytest.FixtureRequest
) -> Iterator[Client]:
    with guard_server.client() as http:
        yield Client(http, scope=request.node.name)
        for name, values in default_valves.items():
            http.post(f"/{name}/valves/update", json=values).raise_for_status()


@pytest.fixture
def who(request: pytest.FixtureRequest) -> dict:
    """A user of Open WebUI's shape, unique to the test."""
    name = request.node.name
    return {"id": f"u-{name}", "name": name, "email": f"{name}@example.com", "role": "user"}


class Client:
    """Calls a filter the way Open WebUI 0.12.4 does: POST {body, user} to its routes."""

    def __init__(self, http: httpx.Client, scope: str) -> None:
        self.http = http
        self.scope = scope

    def valves(self, name: str, **values: object) -> None:
        response = self.http.post(f"/{name}/valves/update", json=values)
        assert response.status_code == 200, response.text

    def inlet(self, name: str, body: dict, user: dict | None) -> httpx.Response:
        return self._post(f"/{name}/filter/inlet", {"body": body, "user": user})

    def outlet(self, name: str, body: dict, user: dict | None) -> httpx.Response:
        return self._post(f"/{name}/filter/outlet", {"body": body, "user": user})

    def blocked(self, name: str, body: dict, user: dict | None) -> str | None:
        """What the user reads if filter `name` refuses this message, else None.

        block_style "error": the 500 detail. "answer" (the default): the inlet hands the
        model only the notice to repeat, and the outlet makes the notice the answer.
        """
        response = self.inlet(name, body, user)
        if response.status_code == 500:
            return response.json()["detail"]
        assert response.status_code == 200, response.text
        sent = response.json()
        block = sent.get("metadata", {}).get("pipekit_guards", {}).get("blocked")
        if block is None:
            return None
        notice = block["notice"]
        assert sent["messages"][-1] == {"role": "user", "content": notice}  # all the model sees
        meta = body.get("metadata") or {}
        if not meta.get("message_id"):
            return notice  # nothing links the outlet to it: the model's repetition stays
        echo = [*sent["messages"], {"role": "assistant", "content": "(the model's repetition)"}]
        out = outlet_body(
            body["model"], echo, chat_id=meta["chat_id"], message_id=meta["message_id"]
        )
        shown = answer_shown(self.outlet(name, out, user).json())
        assert shown == notice
        return shown

    def _post(self, path: str, payload: dict) -> httpx.Response:
        # aiohttp's json= in Open WebUI: json.dumps with ASCII escapes, so a lone surrogate
        # travels as "\ud800" (httpx's own json= would refuse to encode it).
        content = json.dumps(self._scoped(payload))
        return self.http.post(path, content=content, headers={"content-type": "application/json"})

    def _scoped(self, payload: dict) -> dict:
        """Chat and message ids made unique to the test, as Open WebUI's UUIDs are: the
        server (and its per-answer memory) is shared by every test of the package."""
        body = payload.get("body")
        if not isinstance(body, dict):
            return payload
        body = dict(body)
        if isinstance(body.get("metadata"), dict):
            body["metadata"] = self._scope_ids(dict(body["metadata"]), ("chat_id", "message_id"))
        return {**payload, "body": self._scope_ids(body, ("chat_id", "id"))}

    def _scope_ids(self, values: dict, names: tuple[str, ...]) -> dict:
        suffix = f"@{self.scope}"
        for name in names:
            value = values.get(name)
            if isinstance(value, str) and not value.endswith(suffix):
                values[name] = value + suffix
        return values


def outlet_body(
    model: str, messages: list[dict], *, chat_id: str = "chat-1", message_id: str = "chat-1-msg"
) -> dict:
    """The outlet payload Open WebUI 0.12.4 builds after an answer (utils/middleware.py)."""
    return {
        "model": model,
        "messages": [
            {"id": f"m{index}", "timestamp": 1_760_000_000 + index, "info": None, **message}
            | (_output_of(message) if message.get("role") == "assistant" else {})
            for index, message in enumerate(messages)
        ],
        "filter_ids": [],
        "chat_id": chat_id,
        "session_id": "session-1",
        "id": message_id,
    }


def _output_of(message: dict) -> dict:
    # Open WebUI 0.12 also sends the answer as `output` items, and renders from them.
    text = message["content"]
    item = {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant"}
    return {
        "output": [{**item, "content": [{"type": "output_text", "text": text}]}],
        "finish_reason": "stop",
    }


def answer_shown(body: dict) -> str:
    """The answer after the outlets, as Open WebUI shows it: `output` must agree with
    `content` (its view renders `output`, its history keeps `content`)."""
    answer = body["messages"][-1]
    output = [
        "".join(part["text"] for part in item["content"])
        for item in answer.get("output", [])
        if item.get("type") == "message"
    ]
    if "output" in answer:
        assert "\n".join(output) == answer["content"]
    return answer["content"]


def owui_filter_order(models: list[dict], model_id: str) -> list[str]:
    """Open WebUI 0.12.4's `get_sorted_filters` (routers/pipelines.py) over a `/models` list:
    filters for `*` or this model, in ascending `priority`. Inlets and outlets both run in
    this order (the pipe's own outlet first, its own inlet last)."""
    filters = [
        model
        for model in models
        if model.get("pipeline", {}).get("type") == "filter"
        and (model["pipeline"]["pipelines"] == ["*"] or model_id in model["pipeline"]["pipelines"])
    ]
    return [model["id"] for model in sorted(filters, key=lambda m: m["pipeline"]["priority"])]
