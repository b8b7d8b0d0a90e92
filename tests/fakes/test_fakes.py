"""The fakes speak the real protocols: the real `ollama` and `openai` clients work unchanged."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import ollama
import openai
import pytest

from tests.fakes import FakeOllama, Reply


def test_ollama_client_streams_scripted_text(fake_ollama):
    fake_ollama.script(Reply(content="Hello there, 반갑습니다"))
    client = ollama.Client(host=fake_ollama.url)
    parts = list(
        client.chat(model="llama3.2:3b", messages=[{"role": "user", "content": "hi"}], stream=True)
    )
    assert "".join(p.message.content for p in parts) == "Hello there, 반갑습니다"
    assert parts[-1].done and parts[-1].eval_count == len(parts) - 1
    assert fake_ollama.requests[-1]["body"]["messages"][0]["content"] == "hi"


def test_ollama_client_parses_tool_calls(fake_ollama):
    fake_ollama.script(
        Reply(tool_calls=[{"name": "pods_list", "arguments": {"namespace": "shop"}}])
    )
    reply = ollama.Client(host=fake_ollama.url).chat(
        model="llama3.2:3b", messages=[{"role": "user", "content": "pods?"}], stream=False
    )
    call = reply.message.tool_calls[0]
    assert call.function.name == "pods_list" and call.function.arguments == {"namespace": "shop"}


def test_default_reply_echoes_the_user(fake_ollama):
    reply = ollama.Client(host=fake_ollama.url).chat(
        model="llama3.2:3b", messages=[{"role": "user", "content": "ping"}], stream=False
    )
    assert reply.message.content == "You said: ping"


def test_ollama_embeddings_are_real(fake_ollama):
    client = ollama.Client(host=fake_ollama.url)
    vectors = client.embed(
        model="nomic-embed-text", input=["drop a table", "remove a SQL table", "sunny beach"]
    ).embeddings
    similar = sum(a * b for a, b in zip(vectors[0], vectors[1], strict=True))
    unrelated = sum(a * b for a, b in zip(vectors[0], vectors[2], strict=True))
    assert len(vectors[0]) == 384 and similar > unrelated + 0.2


def test_unknown_model_is_a_404_like_ollama(fake_ollama):
    with pytest.raises(ollama.ResponseError) as raised:
        ollama.Client(host=fake_ollama.url).chat(model="nope", messages=[], stream=False)
    assert raised.value.status_code == 404 and "not found" in raised.value.error


def test_refuse_and_accept_reuse_the_port(fake_ollama):
    url = fake_ollama.url
    fake_ollama.refuse()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/api/version")
    fake_ollama.accept()
    assert fake_ollama.url == url and httpx.get(url + "/api/version").status_code == 200


def test_die_after_cuts_the_stream(fake_ollama):
    fake_ollama.script(Reply(content="a b c d e f"))
    fake_ollama.die_after(2)
    client = ollama.Client(host=fake_ollama.url)
    received = []
    with pytest.raises(httpx.TransportError):
        for part in client.chat(model="llama3.2:3b", messages=[], stream=True):
            received.append(part.message.content)
    assert received == ["a ", "b "]


def test_stall_trips_a_client_timeout(fake_ollama):
    fake_ollama.stall(3)
    with pytest.raises(httpx.TimeoutException):
        ollama.Client(host=fake_ollama.url, timeout=0.5).chat(
            model="llama3.2:3b", messages=[], stream=False
        )


def test_pacing_and_64_concurrent_streams():
    with FakeOllama(token_delay_s=0.01, default_reply=" ".join(["w"] * 20)) as fake:
        client = ollama.Client(host=fake.url)

        def one_stream() -> int:
            return len(list(client.chat(model="llama3.2:3b", messages=[], stream=True)))

        started = time.monotonic()
        with ThreadPoolExecutor(64) as pool:
            counts = list(pool.map(lambda _: one_stream(), range(64)))
        elapsed = time.monotonic() - started
    assert counts == [21] * 64  # 20 tokens + the done chunk, every stream
    assert elapsed >= 0.19  # 19 gaps of 10 ms: the pace is honoured


def test_openai_client_streams_text_and_tool_calls(fake_openai):
    client = openai.OpenAI(base_url=fake_openai.url + "/v1", api_key="x")
    fake_openai.script(
        Reply(content="checking"),
        Reply(tool_calls=[{"name": "scale", "arguments": {"replicas": 3}}]),
    )
    chunks = list(
        client.chat.completions.create(
            model="granite", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "checking"
    reply = client.chat.completions.create(model="granite", messages=[], stream=False)
    call = reply.choices[0].message.tool_calls[0]
    assert call.function.name == "scale" and call.function.arguments == '{"replicas": 3}'
    assert [m.id for m in client.models.list()] == ["granite", "llama3.2:3b"]


def test_openai_errors_match_the_real_server(fake_openai):
    client = openai.OpenAI(base_url=fake_openai.url + "/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="missing", messages=[])
    fake_openai.api_key = "right"
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="granite", messages=[])
