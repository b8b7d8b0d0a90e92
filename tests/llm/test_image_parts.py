"""Image parts reach the model only as inline images: never a file of the pipekit host."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from pipekit.llm import ChatOptions, LLMConfig, chat_backend, complete, messages
from pipekit.testing.fake_base import Reply

OPTIONS = ChatOptions(max_tokens=50)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SMALL_IMAGE = "data:image/png;base64," + base64.b64encode(PNG).decode()


@pytest.fixture(params=["ollama", "openai"])
def backend_and_fake(request, fake_ollama, fake_openai):
    if request.param == "ollama":
        config = LLMConfig("ollama", fake_ollama.url, "llama3.2:3b", timeout_s=5)
        return chat_backend(config), fake_ollama
    config = LLMConfig("openai", fake_openai.url + "/v1", "granite", timeout_s=5)
    return chat_backend(config), fake_openai


@pytest.fixture
def valves_file(tmp_path: Path) -> Path:
    """Like DATA_DIR/pipelines/chat/valves.json: the file the auditor's probe named."""
    path = tmp_path / "pipelines" / "chat" / "valves.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"openai_api_key": "sk-secret-from-the-valves"}))
    return path


def ask_with_image(backend, url: str) -> str:
    content = [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": url}},
    ]
    return complete(backend, [{"role": "user", "content": content}], OPTIONS).text


def sent_images(fake) -> list[str]:
    message = fake.requests[-1]["body"]["messages"][-1]
    if fake.requests[-1]["path"] == "/api/chat":
        return message.get("images", [])
    return [part["image_url"]["url"] for part in message["content"] if part["type"] == "image_url"]


@pytest.mark.parametrize("prefix", ["", "data:image/png;base64,"])
def test_an_image_naming_a_server_file_sends_nothing_of_it_and_tells_the_user(
    backend_and_fake, valves_file, prefix
):
    backend, fake = backend_and_fake
    fake.script(Reply(content="I see no image."))
    answer = ask_with_image(backend, prefix + str(valves_file))
    sent = json.dumps(fake.requests[-1]["body"])
    assert "sk-secret" not in sent
    assert base64.b64encode(valves_file.read_bytes()).decode()[:40] not in sent
    assert sent_images(fake) == []
    assert answer.startswith("⚠️ An image was left out")
    assert answer.endswith("I see no image.")


def test_a_small_inline_image_still_reaches_the_model(backend_and_fake):
    backend, fake = backend_and_fake
    fake.script(Reply(content="A pixel."))
    assert ask_with_image(backend, SMALL_IMAGE) == "A pixel."
    images = sent_images(fake)
    assert len(images) == 1 and base64.b64decode(images[0].split(",")[-1]) == PNG


def test_an_image_over_the_size_cap_is_left_out(backend_and_fake, monkeypatch):
    backend, fake = backend_and_fake
    monkeypatch.setattr(messages, "MAX_IMAGE_BYTES", len(PNG) - 1)
    answer = ask_with_image(backend, SMALL_IMAGE)
    assert sent_images(fake) == []
    assert answer.startswith("⚠️ An image was left out") and "larger than" in answer


def test_web_image_links_go_only_to_the_openai_compatible_server(fake_ollama, fake_openai):
    link = "https://example.org/cat.png"
    ollama = chat_backend(LLMConfig("ollama", fake_ollama.url, "llama3.2:3b", timeout_s=5))
    assert ask_with_image(ollama, link).startswith("⚠️ An image was left out")
    assert sent_images(fake_ollama) == []
    openai = chat_backend(LLMConfig("openai", fake_openai.url + "/v1", "granite", timeout_s=5))
    assert not ask_with_image(openai, link).startswith("⚠️")
    assert sent_images(fake_openai) == [link]
