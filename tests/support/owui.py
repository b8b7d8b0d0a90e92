"""Requests shaped exactly as Open WebUI 0.12.x sends them to a pipelines server.

Order per chat turn: every filter's inlet (`/{filter}/filter/inlet`), the pipe's own inlet
(`/{pipe}/filter/inlet`), then `/chat/completions` with the body the inlets returned minus
`metadata`, then the outlets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

USER = {"id": "user-a", "name": "Alice", "email": "alice@example.com", "role": "user"}


def chat_body(
    model: str,
    messages: list[dict] | str,
    *,
    stream: bool = True,
    chat_id: str = "chat-1",
    user: dict | None = None,
    files: list[dict] | None = None,
    task: str | None = None,
) -> dict[str, Any]:
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    user = user or USER
    metadata: dict[str, Any] = {
        "user_id": user["id"],
        "chat_id": chat_id,
        "message_id": f"{chat_id}-msg",
        "session_id": "session-1",
        "features": {},
        "files": files or [],
    }
    if task:
        metadata["task"] = task
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "stream": stream,
        "user": user,
        "metadata": metadata,
    }
    if files:
        body["files"] = files
    return body


def run_inlet(client: httpx.Client, pipeline_id: str, body: dict) -> httpx.Response:
    return client.post(
        f"/{pipeline_id}/filter/inlet", json={"body": body, "user": body.get("user")}
    )


def completion_body(inlet_body: dict) -> dict:
    return {key: value for key, value in inlet_body.items() if key != "metadata"}


def send_turn(client: httpx.Client, body: dict) -> httpx.Response:
    """The pipe's own inlet, then /chat/completions, as Open WebUI does for a pipelines model."""
    inlet = run_inlet(client, body["model"], body)
    inlet.raise_for_status()
    return client.post("/chat/completions", json=completion_body(inlet.json()))


def stream_items(response: httpx.Response) -> Iterator[dict]:
    """The SSE `data:` objects of a streamed completion, ending at [DONE]."""
    for line in response.text.splitlines():
        if not line.startswith("data:"):
            continue
        payload = line[len("data:") :].strip()
        if payload == "[DONE]":
            return
        yield json.loads(payload)


def answer_text(response: httpx.Response) -> str:
    """The text Open WebUI would show for a streamed or non-streamed completion."""
    if "text/event-stream" not in response.headers.get("content-type", ""):
        return response.json()["choices"][0]["message"]["content"]
    parts = []
    for item in stream_items(response):
        for choice in item.get("choices", []):
            parts.append(choice.get("delta", {}).get("content") or "")
    return "".join(parts)


def events(response: httpx.Response, kind: str | None = None) -> list[dict]:
    found = [item["event"] for item in stream_items(response) if "event" in item]
    return [event for event in found if kind is None or event.get("type") == kind]
