"""pipekit.llm against the fake servers: one interface, both backends, errors as chat text."""

from __future__ import annotations

import pytest

from pipekit import settings
from pipekit.llm import ChatOptions, LLMConfig, LLMError, chat_backend, complete
from pipekit.testing.fake_base import Reply
from pipekit.valves import ModelValves

OPTIONS = ChatOptions(temperature=0.2, max_tokens=50)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "pods_list",
            "description": "List pods.",
            "parameters": {"type": "object", "properties": {"namespace": {"type": "string"}}},
        },
    }
]


@pytest.fixture(params=["ollama", "openai"])
def backend_and_fake(request, fake_ollama, fake_openai):
    if request.param == "ollama":
        config = LLMConfig("ollama", fake_ollama.url, "llama3.2:3b", timeout_s=5)
        return chat_backend(config), fake_ollama
    config = LLMConfig("openai", fake_openai.url + "/v1", "granite", timeout_s=5)
    return chat_backend(config), fake_openai


def test_both_backends_return_text_tool_calls_and_usage(backend_and_fake):
    backend, fake = backend_and_fake
    fake.script(
        Reply(
            content="Looking.",
            tool_calls=[{"name": "pods_list", "arguments": {"namespace": "shop"}}],
        )
    )
    reply = complete(backend, [{"role": "user", "content": "pods in shop?"}], OPTIONS, TOOLS)
    assert reply.text == "Looking."
    assert [(c.name, c.arguments) for c in reply.tool_calls] == [
        ("pods_list", {"namespace": "shop"})
    ]
    assert reply.completion_tokens
    sent = fake.requests[-1]["body"]
    assert sent["tools"][0]["function"]["name"] == "pods_list"
    assert sent["messages"] == [{"role": "user", "content": "pods in shop?"}]


def test_both_backends_list_models(backend_and_fake):
    backend, fake = backend_and_fake
    assert set(backend.list_models()) == set(fake.models)


def test_tool_results_round_trip_in_each_backends_format(backend_and_fake):
    backend, fake = backend_and_fake
    conversation = [
        {"role": "user", "content": "pods?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "pods_list", "arguments": {"namespace": "shop"}},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "name": "pods_list", "content": "3 pods"},
    ]
    complete(backend, conversation, OPTIONS, TOOLS)
    sent = fake.requests[-1]["body"]["messages"]
    if fake.requests[-1]["path"] == "/api/chat":
        assert sent[1]["tool_calls"][0]["function"]["arguments"] == {"namespace": "shop"}
        assert sent[2]["tool_name"] == "pods_list"
    else:
        assert sent[1]["tool_calls"][0]["function"]["arguments"] == '{"namespace": "shop"}'
        assert sent[2]["tool_call_id"] == "call_1"


def test_malformed_tool_arguments_are_kept_raw_for_repair(fake_openai):
    backend = chat_backend(LLMConfig("openai", fake_openai.url + "/v1", "granite"))
    fake_openai.script(Reply(tool_calls=[{"name": "pods_list", "arguments": '{"namespace": shop'}]))
    call = complete(backend, [{"role": "user", "content": "x"}], OPTIONS, TOOLS).tool_calls[0]
    assert call.arguments == {} and call.raw_arguments == '{"namespace": shop'


def test_openai_backend_without_url_says_which_valve_to_set():
    with pytest.raises(LLMError) as raised:
        chat_backend(LLMConfig("openai", "", "granite"))
    assert "openai_base_url" in raised.value.user_message


def test_wrong_openai_key_is_reported_as_such(fake_openai):
    fake_openai.api_key = "right"
    backend = chat_backend(LLMConfig("openai", fake_openai.url + "/v1", "granite", api_key="bad"))
    with pytest.raises(LLMError) as raised:
        complete(backend, [{"role": "user", "content": "x"}], OPTIONS)
    assert raised.value.kind == "auth" and "OPENAI_API_KEY" in raised.value.user_message


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "http://localhost:11434"),
        ({"OLLAMA_HOST": "0.0.0.0"}, "http://127.0.0.1:11434"),
        ({"OLLAMA_HOST": "gpu-box:11500"}, "http://gpu-box:11500"),
        (
            {"OLLAMA_HOST": "gpu-box", "OLLAMA_BASE_URL": "https://ollama.example/"},
            "https://ollama.example",
        ),
    ],
)
def test_ollama_url_falls_back_to_the_environment(monkeypatch, environment, expected):
    for name in ("OLLAMA_HOST", "OLLAMA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert settings.ollama_base_url() == expected
    assert ModelValves().llm_config().base_url == expected


def test_valve_overrides_environment(monkeypatch):
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://from-env:11434")
    monkeypatch.setenv("PIPEKIT_MODEL", "qwen2.5:7b")
    assert ModelValves().llm_config().model == "qwen2.5:7b"
    config = ModelValves(ollama_base_url="http://valve:1", model="m").llm_config()
    assert (config.base_url, config.model) == ("http://valve:1", "m")


def test_openai_stream_cut_midway_and_missing_model(fake_openai):
    backend = chat_backend(LLMConfig("openai", fake_openai.url + "/v1", "granite", timeout_s=5))
    fake_openai.script(Reply(content="one two three four five"))
    fake_openai.die_after(2)
    received = []
    with pytest.raises(LLMError) as raised:
        for chunk in backend.stream([{"role": "user", "content": "x"}], OPTIONS):
            received.append(chunk.text)
    assert raised.value.kind == "cut" and "granite" in raised.value.user_message
    assert "".join(received).startswith("one")
    fake_openai.reset()
    missing = chat_backend(LLMConfig("openai", fake_openai.url + "/v1", "nope", timeout_s=5))
    with pytest.raises(LLMError) as raised:
        complete(missing, [{"role": "user", "content": "x"}], OPTIONS)
    assert raised.value.kind == "model_missing" and "`nope`" in raised.value.user_message


@pytest.mark.parametrize(
    ("status", "said", "kind"),
    [
        (400, "registry.ollama.ai/library/gemma:2b does not support tools", "no_tool_support"),
        (
            500,
            'error parsing tool call: raw=\'{"query": "py\', err=unexpected end',
            "bad_tool_call",
        ),
        (500, "out of memory", "error"),
    ],
)
def test_tool_calling_errors_have_their_own_kind(backend_and_fake, status, said, kind):
    backend, fake = backend_and_fake
    fake.script(Reply(status=status, error=said))
    with pytest.raises(LLMError) as raised:
        complete(backend, [{"role": "user", "content": "x"}], OPTIONS, TOOLS)
    assert raised.value.kind == kind
