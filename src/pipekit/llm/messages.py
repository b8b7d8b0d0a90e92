"""Open WebUI messages (content as a string or a list of text/image parts) for each backend.

Tool calls are kept in one neutral shape while an agent runs: an assistant message with
`tool_calls: [{"id", "type": "function", "function": {"name", "arguments": {...}}}]` and
tool results as `{"role": "tool", "tool_call_id", "name", "content"}`; each backend's
converter turns them into what that server expects.

Images are accepted only as inline `data:image/…;base64,` URLs (and as http(s) links for
OpenAI-compatible servers, which fetch them themselves). The `ollama` client reads any image
string that names an existing file, so a "URL" such as `/data/pipelines/chat/valves.json`
would send that file from the pipekit host to the model server: Ollama gets decoded bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import urlsplit

MAX_IMAGE_BYTES = 20 * 1024 * 1024

_DATA_IMAGE_URL = re.compile(r"data:image/[\w.+-]+;base64,(.*)", re.S)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def text_of(value: Any) -> str:
    """The text of a message (a dict with `content`) or of its content: a string, or a list of
    parts whose `text` parts are joined (parts without string text are skipped). None: ""."""
    if isinstance(value, dict):
        value = value.get("content")
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = [
            part["text"]
            for part in value
            if isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        ]
        return "\n".join(text for text in texts if text)
    return str(value)


def scrub_surrogates(value: Any) -> Any:
    """`value` with lone UTF-16 surrogates (`"\\ud800"` from a broken paste) replaced by U+FFFD
    in every string, keys included; the same object when there are none.

    JSON may carry them and Python decodes them, but no UTF-8 encoder (the server's response,
    a model client, a tokenizer) accepts them: one such character turns a reply into a bare 500.
    """
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value) if _LONE_SURROGATE.search(value) else value
    if isinstance(value, list):
        items = [scrub_surrogates(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        pairs = {scrub_surrogates(k): scrub_surrogates(v) for k, v in value.items()}
        unchanged = all(k in value and value[k] is v for k, v in pairs.items())
        return value if unchanged else pairs
    return value


def image_urls_of(content: Any) -> list[str]:
    """Image URLs (usually `data:image/...;base64,...`) from a list-of-parts content."""
    if not isinstance(content, list):
        return []
    urls = []
    for part in content:
        if isinstance(part, dict) and part.get("type") == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if isinstance(url, str) and url:
                urls.append(url)
    return urls


class ImageRefused(ValueError):
    """An image part that is not sent to the model; the message says why, for the user."""


def image_bytes(url: str) -> bytes:
    """The decoded image of a `data:image/…;base64,` URL, or ImageRefused."""
    match = _DATA_IMAGE_URL.fullmatch(url)
    if not match:
        raise ImageRefused("a link or file path instead of an image attached to the chat")
    payload = match.group(1)
    # Compared as base64 first so that a huge payload is never decoded.
    if len(payload) > 4 * -(-MAX_IMAGE_BYTES // 3):
        raise _too_large()
    try:
        data = base64.b64decode(payload, validate=True)
    except binascii.Error:
        data = b""
    if not data:
        raise ImageRefused("image data that is not valid base64")
    if len(data) > MAX_IMAGE_BYTES:
        raise _too_large()
    return data


def _too_large() -> ImageRefused:
    return ImageRefused(f"larger than {MAX_IMAGE_BYTES // 2**20} MB")


def to_ollama(messages: list[dict]) -> tuple[list[dict], list[str]]:
    """Ollama wants text in `content` and images in `images`; also why images were left out."""
    converted = []
    refused: list[str] = []
    for message in messages:
        item: dict[str, Any] = {
            "role": message.get("role", "user"),
            "content": text_of(message.get("content")),
        }
        images = []
        for url in image_urls_of(message.get("content")):
            try:
                # Bytes, never a string: the client would read a string naming a file.
                images.append(image_bytes(url))
            except ImageRefused as why:
                refused.append(str(why))
        if images:
            item["images"] = images
        if message.get("tool_calls"):
            item["tool_calls"] = [
                {
                    "function": {
                        "name": call["function"]["name"],
                        "arguments": call["function"].get("arguments") or {},
                    }
                }
                for call in message["tool_calls"]
            ]
        if message.get("role") == "tool" and message.get("name"):
            item["tool_name"] = message["name"]
        converted.append(item)
    return converted, refused


def to_openai(messages: list[dict]) -> tuple[list[dict], list[str]]:
    """OpenAI-compatible servers take list-of-parts content as it is, minus refused images and
    Open WebUI extras; also why images were left out."""
    converted = []
    refused: list[str] = []
    for message in messages:
        item = {key: message[key] for key in ("role", "content") if key in message}
        if isinstance(item.get("content"), list):
            item["content"] = _accepted_parts(item["content"], refused)
        if message.get("tool_calls"):
            item["content"] = message.get("content") or None
            item["tool_calls"] = [
                {
                    "id": call.get("id") or f"call_{index}",
                    "type": "function",
                    "function": {
                        "name": call["function"]["name"],
                        "arguments": json.dumps(call["function"].get("arguments") or {}),
                    },
                }
                for index, call in enumerate(message["tool_calls"])
            ]
        if message.get("role") == "tool":
            item["tool_call_id"] = message.get("tool_call_id") or "call_0"
        converted.append(item)
    return converted, refused


def _accepted_parts(parts: list, refused: list[str]) -> list:
    accepted = []
    for part in parts:
        try:
            for url in image_urls_of([part]):
                if not _is_web_link(url):
                    image_bytes(url)  # only checked: the server decodes it
        except ImageRefused as why:
            refused.append(str(why))
        else:
            accepted.append(part)
    return accepted


def _is_web_link(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
