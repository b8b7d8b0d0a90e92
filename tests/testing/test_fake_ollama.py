"""FakeOllama speaks Ollama's API: the real `ollama` client works against it unchanged."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import ollama
import pytest

from pipekit.testing.fake_base import Reply
from pipekit.testing.fake_ollama import FakeOllama
from pipekit.testing.server import free_port

MODEL = "llama3.2:3b"
USER = [{"role": "user", "content": "hi"}]


def cosine(first: list[float], second: list[float]) -> float:
    return sum(a * b for a, b in zip(first, second, strict=True))


@pytest.fixture
def client(fake_ollama: FakeOllama) -> Iterator[ollama.Client]:
    client = ollama.Client(host=fake_ollama.url, timeout=5)
    yield client
    client.close()


def test_chat_streams_scripted_text_word_by_word(fake_ollama, client):
    fake_ollama.script(Reply(content="Hello there, 반갑습니다!"))
    parts = list(client.chat(model=MODEL, messages=USER, stream=True))
    assert [p.message.content for p in parts] == ["Hello ", "there, ", "반갑습니다!", ""]
    assert [p.done for p in parts] == [False, False, False, True]
    final = parts[-1]
    assert final.done_reason == "stop" and final.eval_count == 3
    assert final.prompt_eval_count > 0 and final.total_duration > 0


def test_chat_without_stream_answers_in_one_piece(fake_ollama, client):
    fake_ollama.script(Reply(content="one two three"))
    reply = client.chat(model=MODEL, messages=USER, stream=False)
    assert reply.message.content == "one two three" and reply.done and reply.eval_count == 3


def test_requests_are_recorded_as_the_model_received_them(fake_ollama, client):
    tools = [{"type": "function", "function": {"name": "pods_list", "parameters": {}}}]
    options = {"temperature": 0.2, "num_predict": 64, "num_ctx": 8192}
    client.chat(model=MODEL, messages=USER, options=options, tools=tools, stream=False)
    [sent] = fake_ollama.bodies("/api/chat")
    assert sent["messages"] == USER and sent["stream"] is False
    assert sent["options"] == options
    assert sent["tools"][0]["function"]["name"] == "pods_list"
    assert fake_ollama.requests[-1]["method"] == "POST"


def test_tool_calls_reach_the_client_as_objects(fake_ollama, client):
    call = {"name": "pods_list", "arguments": {"namespace": "shop", "limit": 5}}
    fake_ollama.script(Reply(content="Checking.", tool_calls=[call]), Reply(tool_calls=[call]))
    streamed = list(client.chat(model=MODEL, messages=USER, stream=True))
    calls = [c for part in streamed for c in part.message.tool_calls or []]
    assert "".join(p.message.content for p in streamed) == "Checking."
    assert [(c.function.name, c.function.arguments) for c in calls] == [
        ("pods_list", {"namespace": "shop", "limit": 5})
    ]
    whole = client.chat(model=MODEL, messages=USER, stream=False)
    assert whole.message.tool_calls[0].function.arguments == {"namespace": "shop", "limit": 5}


def test_default_reply_echoes_the_last_user_message(client):
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "ping"},
    ]
    assert client.chat(model=MODEL, messages=messages).message.content == "You said: ping"


def test_explicit_chunks_and_num_predict_cut(fake_ollama, client):
    fake_ollama.script(Reply(chunks=["안", "녕", "하세요"]), Reply(content="a b c d e f"))
    assert [p.message.content for p in client.chat(model=MODEL, messages=USER, stream=True)][
        :-1
    ] == ["안", "녕", "하세요"]
    cut = client.chat(model=MODEL, messages=USER, options={"num_predict": 2})
    assert cut.message.content == "a b " and cut.done_reason == "length"


def test_generate_streams_and_answers_whole(fake_ollama, client):
    fake_ollama.script(Reply(content="Paris is the capital"), Reply(content="Yes"))
    parts = list(client.generate(model=MODEL, prompt="Capital of France?", stream=True))
    assert "".join(p.response for p in parts) == "Paris is the capital" and parts[-1].done
    assert client.generate(model=MODEL, prompt="Sure?").response == "Yes"
    assert fake_ollama.bodies("/api/generate")[0]["prompt"] == "Capital of France?"


def test_embeddings_are_real_and_semantic(fake_ollama, client):
    texts = ["How do I drop a table?", "Which SQL command removes a table?", "A sunny beach."]
    vectors = client.embed(model="nomic-embed-text", input=texts).embeddings
    assert len(vectors) == 3 and len(vectors[0]) == 384
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.3
    single = client.embed(model="all-minilm", input="How do I drop a table?").embeddings
    legacy = client.embeddings(model="nomic-embed-text", prompt="How do I drop a table?")
    assert cosine(single[0], vectors[0]) == pytest.approx(1.0, abs=1e-4)
    assert cosine(legacy.embedding, vectors[0]) == pytest.approx(1.0, abs=1e-4)


def test_model_listing_show_version_and_root(fake_ollama, client):
    assert [m.model for m in client.list().models] == fake_ollama.models
    shown = client.show(MODEL)
    assert "tools" in shown.capabilities and shown.details.format == "gguf"
    assert "embedding" in client.show("nomic-embed-text").capabilities
    assert httpx.get(fake_ollama.url + "/").text == "Ollama is running"
    assert httpx.get(fake_ollama.url + "/api/version").json()["version"]
    assert client.ps().models == []


def test_unknown_model_is_a_404_as_ollama_says_it(client):
    for call in (
        lambda: client.chat(model="nope", messages=USER),
        lambda: client.embed(model="nope", input="x"),
        lambda: client.show("nope"),
    ):
        with pytest.raises(ollama.ResponseError) as raised:
            call()
        assert raised.value.status_code == 404
        assert raised.value.error == 'model "nope" not found, try pulling it first'


def test_scripted_error_status(fake_ollama, client):
    fake_ollama.script(Reply(status=500, error="llama runner process has terminated"))
    with pytest.raises(ollama.ResponseError) as raised:
        client.chat(model=MODEL, messages=USER)
    assert raised.value.status_code == 500 and "terminated" in raised.value.error


def test_refuse_then_accept_on_the_same_port(fake_ollama, client):
    url = fake_ollama.url
    fake_ollama.refuse()
    with pytest.raises(ConnectionError):
        client.chat(model=MODEL, messages=USER)
    fake_ollama.accept()
    assert fake_ollama.url == url
    assert client.chat(model=MODEL, messages=USER).message.content == "You said: hi"


def test_die_after_cuts_the_stream_midway(fake_ollama, client):
    fake_ollama.script(Reply(content="a b c d e f"))
    fake_ollama.die_after(2)
    received = []
    with pytest.raises(httpx.TransportError):
        for part in client.chat(model=MODEL, messages=USER, stream=True):
            received.append(part.message.content)
    assert received == ["a ", "b "]
    assert client.chat(model=MODEL, messages=USER, stream=False).done  # one piece < 2 chunks
    fake_ollama.die_after(0)
    with pytest.raises(httpx.TransportError):
        client.chat(model=MODEL, messages=USER, stream=False)


def test_stall_trips_a_client_timeout_and_reset_clears_it(fake_ollama, client):
    fake_ollama.stall(3)
    impatient = ollama.Client(host=fake_ollama.url, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(httpx.TimeoutException):
        impatient.chat(model=MODEL, messages=USER)
    assert time.monotonic() - started < 2
    impatient.close()
    fake_ollama.script(Reply(content="queued"))
    fake_ollama.refuse()
    fake_ollama.reset()  # no stall, no script, no records, listening again
    assert client.chat(model=MODEL, messages=USER).message.content == "You said: hi"
    assert len(fake_ollama.requests) == 1


def test_pacing_is_honoured_per_chunk(fake_ollama, client):
    fake_ollama.script(Reply(content=" ".join(["w"] * 11), token_delay_s=0.03))
    arrivals = [time.monotonic() for _ in client.chat(model=MODEL, messages=USER, stream=True)]
    gaps = sorted(later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False))
    assert len(gaps) == 11 and 0.3 <= arrivals[-1] - arrivals[0] < 0.6
    assert 0.02 <= gaps[len(gaps) // 2] <= 0.045  # the median gap is the configured pace


def test_64_concurrent_streams_all_complete_at_pace():
    with FakeOllama(token_delay_s=0.01) as fake:
        fake.stream_tokens(20)
        client = ollama.AsyncClient(host=fake.url, timeout=10)

        async def one(index: int) -> str:
            messages = [{"role": "user", "content": f"stream {index}"}]
            parts = [
                p async for p in await client.chat(model=MODEL, messages=messages, stream=True)
            ]
            return "".join(p.message.content for p in parts)

        async def all_of_them() -> list[str]:
            try:
                return await asyncio.gather(*(one(index) for index in range(64)))
            finally:
                await client.close()

        started = time.monotonic()
        texts = asyncio.run(all_of_them())
        elapsed = time.monotonic() - started
        assert texts == ["".join(f"t{i} " for i in range(20))] * 64
        assert len(fake.bodies("/api/chat")) == 64
        # 19 gaps of 10 ms each, side by side: concurrent, not one after another (12 s).
        assert 0.19 <= elapsed < 3


def test_cli_serves_a_fixed_token_stream_until_terminated():
    port = free_port()
    command = [sys.executable, "-m", "pipekit.cli", "fake-ollama", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--tokens", "5", "--models", MODEL],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        client = ollama.Client(host=f"http://127.0.0.1:{port}", timeout=5)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ps()
                break
            except ConnectionError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.05)
        parts = list(client.chat(model=MODEL, messages=USER, stream=True))
        assert "".join(p.message.content for p in parts) == "t0 t1 t2 t3 t4 "
        with pytest.raises(ollama.ResponseError):
            client.chat(model="other", messages=USER)
        client.close()
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr.decode()
    assert f"listening on http://127.0.0.1:{port}" in stderr.decode()
