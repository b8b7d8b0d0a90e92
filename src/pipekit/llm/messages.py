"""Open WebUI messages (content as a string or a list of text/image parts) for each backend.

Tool calls are kept in one neutral shape while an agent runs: an assistant message with
`tool_calls: [{"id", "type": "function", "function": {"name", "arguments": {...}}}]` and
tool results as `{"role": "tool", "tool_call_id", "name", "content"}`; each backend's
converter turns them into what that server expects.
"""

from __future__ import annotations

import json
from typing import Any


def text_of(content: Any) -> str:
    """The text of a message's content, whether a string or a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        ]
        return "\n".join(text for text in texts if text)
    return str(content)


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


def to_ollama(messages: list[dict]) -> list[dict]:
    """Ollama wants text in `content` and images as bare base64 strings in `images`."""
    converted = []
    for message in messages:
        item: dict[str, Any] = {
            "role": message.get("role", "user"),
            "content": text_of(message.get("content")),
        }
        images = [_base64_payload(url) for url in image_urls_of(message.get("content"))]
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
    return converted


def to_openai(messages: list[dict]) -> list[dict]:
    """OpenAI-compatible servers take list-of-parts content as it is; drop Open WebUI extras."""
    converted = []
    for message in messages:
        item = {key: message[key] for key in ("role", "content") if key in message}
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
    return converted


def _base64_payload(url: str) -> str:
    return url.split(",", 1)[1] if url.startswith("data:") and "," in url else url
