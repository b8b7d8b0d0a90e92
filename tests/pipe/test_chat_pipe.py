"""The chat pipe and the pipe base, through `pipekit serve`, with a fake Ollama behind them."""

from __future__ import annotations

import json

import pytest

from pipekit.testing.fake_ollama import Reply
from tests.support.owui import answer_text, chat_body, events, send_turn

MODEL = "llama3.2:3b"

# Echoes what the pipe base hands to run(): proves metadata travels inlet -> pipe().
PROBE = '''
"""
title: Probe
"""
import json

from pipekit.pipe import BasePipe


class Pipeline(BasePipe):
    def run(self, request):
        yield json.dumps({
            "chat_id": request.chat_id,
            "message_id": request.message_id,
            "user_id": request.user_id,
            "files": request.files,
            "task": request.task,
            "user_message": request.user_message,
        })
'''


@pytest.fixture
def server(start_server, fake_ollama, pipelines_dir):
    return start_server(
        extra_dirs=(pipelines_dir(probe=PROBE),),
        env={"OLLAMA_BASE_URL": fake_ollama.url, "PIPEKIT_MODEL": MODEL},
    )


def chat(server, message="hello", **options):
    with server.client() as client:
        return send_turn(client, chat_body("chat", message, **options))


def set_valves(server, **valves):
    with server.client() as client:
        client.post("/chat/valves/update", json=valves).raise_for_status()


def last_chat_request(fake_ollama) -> dict:
    return [r for r in fake_ollama.requests if r["path"] == "/api/chat"][-1]["body"]


def test_chat_streams_the_model_answer(server, fake_ollama):
    fake_ollama.script(Reply(content="Hello from the model, 안녕하세요"))
    response = chat(server)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.rstrip().endswith("data: [DONE]")
    assert answer_text(response) == "Hello from the model, 안녕하세요"


def test_valves_reach_the_model(server, fake_ollama):
    set_valves(
        server,
        system_prompt="Answer in Korean.",
        temperature=0.1,
        max_tokens=77,
        context_length=4096,
    )
    chat(server, "What is a pod?")
    sent = last_chat_request(fake_ollama)
    assert sent["model"] == MODEL
    assert sent["messages"][0] == {"role": "system", "content": "Answer in Korean."}
    assert sent["messages"][-1]["content"] == "What is a pod?"
    assert sent["options"]["temperature"] == 0.1
    assert sent["options"]["num_predict"] == 77
    assert sent["options"]["num_ctx"] == 4096


def test_server_down_reads_as_a_message_naming_url_and_model(server, fake_ollama):
    fake_ollama.refuse()
    answer = answer_text(chat(server))
    assert fake_ollama.url in answer and MODEL in answer
    assert "Cannot reach the Ollama server" in answer


def test_missing_model_names_the_model_and_how_to_get_it(server):
    set_valves(server, model="no-such-model:1b")
    answer = answer_text(chat(server))
    assert "no-such-model:1b" in answer and "ollama pull no-such-model:1b" in answer


def test_stream_cut_midway_keeps_the_text_and_says_so(server, fake_ollama):
    fake_ollama.script(Reply(content="one two three four five six seven eight"))
    fake_ollama.die_after(3)
    answer = answer_text(chat(server))
    assert answer.startswith("one")
    assert "eight" not in answer
    assert "was cut off" in answer and MODEL in answer


def test_stalled_server_times_out_with_a_message(server, fake_ollama):
    set_valves(server, request_timeout_s=1)
    fake_ollama.stall(5)
    answer = answer_text(chat(server))
    assert "did not answer within 1 s" in answer and fake_ollama.url in answer


def test_empty_model_answer_is_never_an_empty_reply(server, fake_ollama):
    fake_ollama.script(Reply(content=""))
    assert "returned an empty answer" in answer_text(chat(server))


def test_background_task_gets_a_short_plain_answer(server, fake_ollama):
    fake_ollama.script(Reply(content='{"title": "Pods"}'))
    set_valves(server, system_prompt="You are a pirate.", max_tokens=4000)
    response = chat(server, "### Task:\nGenerate a title", stream=False, task="title_generation")
    assert response.json()["choices"][0]["message"]["content"] == '{"title": "Pods"}'
    sent = last_chat_request(fake_ollama)
    assert sent["options"]["num_predict"] <= 256
    assert all(m["role"] != "system" for m in sent["messages"])  # the plain model


def test_background_task_is_recognised_without_metadata(server, fake_ollama):
    with server.client() as client:
        response = client.post(
            "/chat/completions",
            json={
                "model": "chat",
                "stream": False,
                "messages": [{"role": "user", "content": "### Task:\nSuggest 3 tags"}],
            },
        )
    assert response.status_code == 200
    assert last_chat_request(fake_ollama)["options"]["num_predict"] <= 256


def test_content_as_parts_with_an_image(server, fake_ollama):
    parts = [
        {"type": "text", "text": "이 그림은 무엇인가요?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]
    chat(server, [{"role": "user", "content": parts}])
    sent = last_chat_request(fake_ollama)["messages"][-1]
    assert sent["content"] == "이 그림은 무엇인가요?"
    assert sent["images"] == ["iVBORw0KGgo="]


def test_non_streamed_request_returns_plain_text(server, fake_ollama):
    fake_ollama.script(Reply(content="plain answer"))
    response = chat(server, stream=False)
    assert response.json()["choices"][0]["message"]["content"] == "plain answer"


def test_metadata_travels_from_inlet_to_pipe(server):
    files = [{"type": "file", "id": "file-1", "name": "runbook.md"}]
    with server.client() as client:
        response = send_turn(client, chat_body("probe", "look", chat_id="chat-42", files=files))
    seen = json.loads(answer_text(response))
    assert seen["chat_id"] == "chat-42"
    assert seen["message_id"] == "chat-42-msg"
    assert seen["user_id"] == "user-a"
    assert seen["files"] == files
    assert seen["task"] is None
    assert seen["user_message"] == "look"
    assert events(response) == []


def test_openai_compatible_backend(start_server, fake_openai):
    fake_openai.script(Reply(content="from vLLM"))
    server = start_server(env={"OPENAI_BASE_URL": fake_openai.url + "/v1"})
    set_valves(server, backend="openai", model="granite")
    assert answer_text(chat(server)) == "from vLLM"
    fake_openai.refuse()
    answer = answer_text(chat(server))
    assert "OpenAI-compatible server" in answer and fake_openai.url in answer


CRASHING = '''
"""
title: Crashing
"""
from pipekit.pipe import BasePipe, status


class Pipeline(BasePipe):
    def run(self, request):
        yield status("Working")
        raise KeyError("collection")
'''


def test_a_crashing_pipe_answers_with_what_failed(start_server, pipelines_dir):
    server = start_server(extra_dirs=(pipelines_dir(crashing=CRASHING),))
    with server.client() as client:
        response = send_turn(client, chat_body("crashing", "hi"))
    answer = answer_text(response)
    assert "The Crashing pipeline failed: KeyError" in answer
    assert response.text.rstrip().endswith("data: [DONE]")
    assert "KeyError: 'collection'" in server.log()  # the traceback is in the server log
