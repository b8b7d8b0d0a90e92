"""The filter base through `pipekit serve`, called the way Open WebUI calls filters."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.support.owui import chat_body, run_inlet

SHOUTING = '''
"""
title: Shouting Guard
"""
import time

from pipekit.filter import Blocked, BaseFilter, last_message, replace_text
from pipekit.llm import text_of


class Pipeline(BaseFilter):
    def check_inlet(self, body, user):
        message = last_message(body, "user")
        text = text_of(message)
        if "forbidden" in text:
            raise Blocked("This request was blocked by the Shouting Guard.")
        if text == "slow":
            time.sleep(1.5)
        replace_text(message, text.upper())
        return body

    def check_outlet(self, body, user):
        message = last_message(body, "assistant")
        replace_text(message, text_of(message) + " [checked]")
        return body
'''


@pytest.fixture
def server(start_server, pipelines_dir):
    return start_server(extra_dirs=(pipelines_dir(shouting=SHOUTING),))


def test_filter_is_listed_as_a_filter_for_all_pipelines(server):
    with server.client() as client:
        models = {m["id"]: m for m in client.get("/models").json()["data"]}
    assert models["shouting"]["pipeline"] == {
        "type": "filter",
        "pipelines": ["*"],
        "priority": 0,
        "valves": True,
    }
    assert models["shouting"]["name"] == "Shouting Guard"


def test_inlet_rewrites_text_and_keeps_image_parts(server):
    parts = [
        {"type": "text", "text": "hello"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
    ]
    with server.client() as client:
        body = run_inlet(
            client, "shouting", chat_body("chat", [{"role": "user", "content": parts}])
        )
    content = body.json()["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "HELLO"} and content[1]["type"] == "image_url"


def test_a_block_answers_http_500_with_the_message_as_detail(server):
    with server.client() as client:
        response = run_inlet(client, "shouting", chat_body("chat", "this is forbidden"))
    assert response.status_code == 500
    assert response.json()["detail"] == "This request was blocked by the Shouting Guard."


def test_background_tasks_are_skipped(server):
    body = chat_body("chat", "forbidden title please", task="title_generation", stream=False)
    with server.client() as client:
        response = run_inlet(client, "shouting", body)
    assert response.status_code == 200
    assert response.json()["messages"][-1]["content"] == "forbidden title please"


def test_outlet_sees_the_answer(server):
    body = {
        "model": "chat",
        "chat_id": "c1",
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
    }
    with server.client() as client:
        response = client.post("/shouting/filter/outlet", json={"body": body, "user": None})
    assert response.json()["messages"][-1]["content"] == "hello [checked]"


def test_a_slow_check_does_not_stall_the_server(server):
    slow = threading.Thread(
        target=lambda: run_inlet(
            httpx.Client(base_url=server.url, headers=server.headers(), timeout=10),
            "shouting",
            chat_body("chat", "slow"),
        )
    )
    slow.start()
    time.sleep(0.3)
    started = time.monotonic()
    with server.client() as client:
        assert client.get("/models").status_code == 200
    assert time.monotonic() - started < 1.0
    slow.join()
