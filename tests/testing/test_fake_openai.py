"""FakeOpenAI speaks the OpenAI API as vLLM serves it: the real `openai` client works unchanged."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from pipekit.testing.fake_base import Reply
from pipekit.testing.fake_openai import FakeOpenAI

MODEL = "granite"
USER = [{"role": "user", "content": "hi"}]


def cosine(first: list[float], second: list[float]) -> float:
    return sum(a * b for a, b in zip(first, second, strict=True))


@pytest.fixture
def client(fake_openai: FakeOpenAI) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=fake_openai.url + "/v1", api_key="any", max_retries=0, timeout=5
    ) as client:
        yield client


def test_stream_sends_chat_completion_chunks_and_done(fake_openai, client):
    fake_openai.script(Reply(content="Hello there, 반갑습니다!"))
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True}
        )
    )
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert deltas[0].role == "assistant"
    assert [d.content for d in deltas[1:-1]] == ["Hello ", "there, ", "반갑습니다!"]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert all(c.object == "chat.completion.chunk" and c.model == MODEL for c in chunks)
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage.completion_tokens == 3 and usage.prompt_tokens


def test_raw_stream_ends_with_done_marker(fake_openai):
    body = {"model": MODEL, "messages": USER, "stream": True}
    with httpx.stream("POST", fake_openai.url + "/v1/chat/completions", json=body) as response:
        lines = [line for line in response.iter_lines() if line]
    assert response.headers["content-type"].startswith("text/event-stream")
    assert all(line.startswith("data: ") for line in lines) and lines[-1] == "data: [DONE]"


def test_non_stream_answer_with_usage_and_recorded_request(fake_openai, client):
    fake_openai.script(Reply(content="one two three"))
    reply = client.chat.completions.create(
        model=MODEL, messages=USER, temperature=0.2, max_tokens=64
    )
    assert reply.choices[0].message.content == "one two three"
    assert reply.choices[0].finish_reason == "stop" and reply.usage.completion_tokens == 3
    [sent] = fake_openai.bodies("/v1/chat/completions")
    assert sent["messages"] == USER and sent["temperature"] == 0.2 and sent["max_tokens"] == 64


def test_max_tokens_cuts_with_finish_reason_length(fake_openai, client):
    fake_openai.script(Reply(content="a b c d e f"))
    reply = client.chat.completions.create(model=MODEL, messages=USER, max_tokens=2)
    assert reply.choices[0].message.content == "a b " and reply.choices[0].finish_reason == "length"


def test_tool_calls_stream_in_fragments_and_reassemble(fake_openai, client):
    arguments = {"namespace": "shop", "selector": "app=cart", "limit": 5}
    call = {"name": "pods_list", "arguments": arguments}
    fake_openai.script(
        Reply(tool_calls=[call, {**call, "name": "events"}]), Reply(tool_calls=[call])
    )
    calls: dict[int, dict[str, str]] = {}
    fragments = 0
    finish = None
    for chunk in client.chat.completions.create(model=MODEL, messages=USER, stream=True):
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for delta in choice.delta.tool_calls or []:
                fragments += 1
                entry = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] += delta.id or ""
                entry["name"] += delta.function.name or ""
                entry["arguments"] += delta.function.arguments or ""
    assert finish == "tool_calls" and fragments > 2 * 2  # name first, then argument pieces
    assert [(c["name"], json.loads(c["arguments"])) for c in calls.values()] == [
        ("pods_list", arguments),
        ("events", arguments),
    ]
    assert all(c["id"] for c in calls.values())
    whole = client.chat.completions.create(model=MODEL, messages=USER)
    [parsed] = whole.choices[0].message.tool_calls
    assert parsed.type == "function" and json.loads(parsed.function.arguments) == arguments
    assert whole.choices[0].message.content is None


def test_malformed_arguments_are_sent_verbatim(fake_openai, client):
    fake_openai.script(Reply(tool_calls=[{"name": "scale", "arguments": '{"replicas": 3'}]))
    reply = client.chat.completions.create(model=MODEL, messages=USER)
    assert reply.choices[0].message.tool_calls[0].function.arguments == '{"replicas": 3'


def test_models_are_listed(fake_openai, client):
    assert [m.id for m in client.models.list()] == fake_openai.models == ["granite", "llama3.2:3b"]


def test_embeddings_decode_and_are_semantic(client):
    texts = ["How do I drop a table?", "Which SQL command removes a table?", "A sunny beach."]
    # The client asks for base64 unless told otherwise, and decodes it itself.
    data = client.embeddings.create(model="nomic-embed-text", input=texts).data
    vectors = [item.embedding for item in data]
    assert [item.index for item in data] == [0, 1, 2] and len(vectors[0]) == 384
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.3
    floats = client.embeddings.create(model=MODEL, input=texts[0], encoding_format="float")
    assert cosine(floats.data[0].embedding, vectors[0]) == pytest.approx(1.0, abs=1e-4)


def test_unknown_model_is_an_openai_style_404(client):
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="missing", messages=USER)
    assert raised.value.status_code == 404 and "`missing` does not exist" in raised.value.message
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="missing", input="x")


def test_api_key_is_checked_when_set(fake_openai):
    fake_openai.api_key = "right"
    options = {"base_url": fake_openai.url + "/v1", "max_retries": 0}
    with openai.OpenAI(api_key="wrong", **options) as wrong:
        with pytest.raises(openai.AuthenticationError):
            wrong.chat.completions.create(model=MODEL, messages=USER)
        with pytest.raises(openai.AuthenticationError):
            wrong.models.list()
    with openai.OpenAI(api_key="right", **options) as right:
        assert right.chat.completions.create(model=MODEL, messages=USER).choices
    assert fake_openai.requests[-1]["headers"]["Authorization"] == "Bearer right"


def test_scripted_error_status(fake_openai, client):
    fake_openai.script(Reply(status=400, error="This model's maximum context length is 4096"))
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MODEL, messages=USER)
    assert "maximum context length" in raised.value.message


def test_refuse_then_accept_on_the_same_port(fake_openai, client):
    fake_openai.refuse()
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model=MODEL, messages=USER)
    fake_openai.accept()
    assert client.chat.completions.create(model=MODEL, messages=USER).choices[0].message.content


def test_die_after_cuts_the_stream_midway(fake_openai, client):
    fake_openai.script(Reply(content="a b c d e f"))
    fake_openai.die_after(3)  # the role chunk, then two words
    received = []
    with pytest.raises((httpx.TransportError, openai.APIError)):
        for chunk in client.chat.completions.create(model=MODEL, messages=USER, stream=True):
            received.append(chunk.choices[0].delta.content)
    assert received == ["", "a ", "b "]


def test_stall_trips_a_client_timeout(fake_openai):
    fake_openai.stall(3)
    url = fake_openai.url + "/v1"
    with openai.OpenAI(base_url=url, api_key="x", max_retries=0, timeout=0.3) as impatient:
        started = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            impatient.chat.completions.create(model=MODEL, messages=USER)
        assert time.monotonic() - started < 2


def test_64_concurrent_streams_all_complete_at_pace():
    with FakeOpenAI(token_delay_s=0.01) as fake:
        fake.stream_tokens(20)

        async def all_of_them() -> list[str]:
            async with openai.AsyncOpenAI(
                base_url=fake.url + "/v1", api_key="x", max_retries=0, timeout=10
            ) as client:

                async def one(index: int) -> str:
                    messages = [{"role": "user", "content": f"stream {index}"}]
                    stream = await client.chat.completions.create(
                        model=MODEL, messages=messages, stream=True
                    )
                    return "".join([c.choices[0].delta.content or "" async for c in stream])

                return await asyncio.gather(*(one(index) for index in range(64)))

        started = time.monotonic()
        texts = asyncio.run(all_of_them())
        elapsed = time.monotonic() - started
        assert texts == ["".join(f"t{i} " for i in range(20))] * 64
        assert len(fake.bodies("/v1/chat/completions")) == 64
        assert 0.19 <= elapsed < 3
