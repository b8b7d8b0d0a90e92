"""Open WebUI messages (content as a string or a list of text/image parts) for each backend."""

from __future__ import annotations

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
        for key in ("tool_calls", "tool_name", "name"):
            if key in message:
                item[key] = message[key]
        converted.append(item)
    return converted


def to_openai(messages: list[dict]) -> list[dict]:
    """OpenAI-compatible servers take list-of-parts content as it is; drop Open WebUI extras."""
    allowed = ("role", "content", "name", "tool_calls", "tool_call_id")
    return [{key: value for key, value in m.items() if key in allowed} for m in messages]


def _base64_payload(url: str) -> str:
    return url.split(",", 1)[1] if url.startswith("data:") and "," in url else url
