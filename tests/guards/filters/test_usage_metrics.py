"""The usage_metrics filter: one chat turn through the real server, read back from Prometheus."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from pipekit.guards import metrics
from pipekit.testing.fake_ollama import Reply
from pipekit.testing.server import free_port
from tests.guards.filters.conftest import outlet_body
from tests.support.owui import answer_text, chat_body, completion_body, run_inlet

QUESTION = "What is a pod?"


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    text = httpx.get(url, timeout=5).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def one_turn(client, who, fake_ollama, *, usage=None, chat_id="c1"):
    """usage_metrics inlet, the chat pipe (fake Ollama), then the outlet, as Open WebUI runs it."""
    fake_ollama.script(Reply(content="A pod is the smallest deployable unit."))
    body = chat_body("chat", QUESTION, user=who, chat_id=chat_id)
    body = client.inlet("usage_metrics", body, who).json()
    body = run_inlet(client.http, "chat", body).json()
    answer = answer_text(client.http.post("/chat/completions", json=completion_body(body)))
    reply = {"role": "assistant", "content": answer, **({"usage": usage} if usage else {})}
    messages = [{"role": "user", "content": QUESTION}, reply]
    out = outlet_body("chat", messages, chat_id=chat_id, message_id=f"{chat_id}-msg")
    assert client.outlet("usage_metrics", out, who).status_code == 200
    return answer


def test_a_turn_is_counted_timed_and_its_tokens_estimated(client, who, fake_ollama):
    port = free_port()
    client.valves("chat", ollama_base_url=fake_ollama.url, model="llama3.2:3b")
    client.valves("usage_metrics", metrics_port=port)
    answer = one_turn(client, who, fake_ollama)
    assert answer == "A pod is the smallest deployable unit."

    seen = scrape(f"http://127.0.0.1:{port}/metrics")
    user, model = ("user", who["id"]), ("model", "chat")
    assert seen[("pipekit_chat_requests_total", frozenset({user, model}))] == 1
    assert seen[("pipekit_chat_latency_seconds_count", frozenset({model}))] >= 1
    tokens = {
        direction: seen[
            (
                "pipekit_chat_tokens_total",
                frozenset({user, model, ("direction", direction), ("source", "estimated")}),
            )
        ]
        for direction in ("prompt", "completion")
    }
    assert tokens == {"prompt": 4, "completion": 10}  # 14 and 38 characters, 4 a token


def test_reported_usage_wins_and_user_label_can_be_dropped(client, who, fake_ollama):
    port = free_port()
    client.valves("chat", ollama_base_url=fake_ollama.url, model="llama3.2:3b")
    client.valves("usage_metrics", metrics_port=port, user_label="email")
    one_turn(client, who, fake_ollama, usage={"prompt_tokens": 12, "completion_tokens": 7})
    seen = scrape(f"http://127.0.0.1:{port}/metrics")
    labels = {("user", who["email"]), ("model", "chat"), ("source", "reported")}
    assert seen[("pipekit_chat_tokens_total", frozenset({*labels, ("direction", "prompt")}))] == 12
    assert (
        seen[("pipekit_chat_tokens_total", frozenset({*labels, ("direction", "completion")}))] == 7
    )

    client.valves("usage_metrics", user_label="none")
    one_turn(client, who, fake_ollama, chat_id="c2")
    seen = scrape(f"http://127.0.0.1:{port}/metrics")
    assert (
        seen[("pipekit_chat_requests_total", frozenset({("user", "all"), ("model", "chat")}))] >= 1
    )


def test_guard_actions_are_counted(client, who):
    port = free_port()
    client.valves("usage_metrics", metrics_port=port)
    client.valves("rate_limit", requests_per_minute=1)
    for _ in range(2):
        client.inlet("rate_limit", chat_body("chat", "hi", user=who), who)
    seen = scrape(f"http://127.0.0.1:{port}/metrics")
    key = (
        "pipekit_guard_actions_total",
        frozenset({("filter", "rate_limit"), ("action", "limited")}),
    )
    assert seen[key] >= 1


def test_requests_refused_by_an_earlier_filter_are_counted(client, who):
    port = free_port()
    client.valves("usage_metrics", metrics_port=port, priority=100)  # now after the guards
    body = chat_body("refused-model", "hi", user=who)
    body["metadata"]["pipekit_guards"] = {"blocked": {"by": "Rate Limit", "notice": "wait"}}
    assert client.inlet("usage_metrics", body, who).status_code == 200
    seen = scrape(f"http://127.0.0.1:{port}/metrics")
    key = frozenset({("user", who["id"]), ("model", "refused-model")})
    assert seen[("pipekit_chat_requests_total", key)] == 1


def test_an_outlet_without_its_inlet_still_counts_tokens(client, who):
    port = free_port()
    client.valves("usage_metrics", metrics_port=port)
    messages = [{"role": "user", "content": "x" * 40}, {"role": "assistant", "content": "y" * 8}]
    client.outlet("usage_metrics", outlet_body("m-orphan", messages, message_id="nope"), who)
    seen = scrape(f"http://127.0.0.1:{port}/metrics")
    labels = {("user", who["id"]), ("model", "m-orphan"), ("source", "estimated")}
    assert seen[("pipekit_chat_tokens_total", frozenset({*labels, ("direction", "prompt")}))] == 10
    assert ("pipekit_chat_latency_seconds_count", frozenset({("model", "m-orphan")})) not in seen


def test_metrics_route_on_an_app():
    app = FastAPI()
    metrics.install_route(app)
    metrics.REQUESTS.labels(model="route-test", user="u").inc()
    response = TestClient(app).get("/pipekit/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'pipekit_chat_requests_total{model="route-test",user="u"} 1.0' in response.text


def test_token_estimate():
    assert metrics.estimate_tokens("") == 0
    assert metrics.estimate_tokens("abcd" * 10) == 10
    assert metrics.estimate_tokens("안녕하세요") == 5
