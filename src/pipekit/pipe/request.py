"""What a pipe knows about the chat turn it is answering.

Open WebUI sends chat id, user, uploaded files and the background `task` only to inlets; the
body that reaches `pipe()` has just model, messages, stream and user. The pipe's own inlet
copies them into the body under METADATA_KEY, which the server passes on to `pipe()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pipekit.llm import text_of

METADATA_KEY = "pipekit_metadata"

# Open WebUI's background requests (title, tags, follow-ups, search queries, autocomplete)
# start their prompt with this heading; used when the inlet metadata did not come through.
_TASK_PROMPT_PREFIX = "### Task:"


def capture_metadata(body: dict, user: dict | None) -> dict:
    """Copy Open WebUI's inlet metadata into the body so `pipe()` can read it."""
    metadata = body.get("metadata") or {}
    files = metadata.get("files") or body.get("files") or []
    body[METADATA_KEY] = {
        "chat_id": metadata.get("chat_id"),
        "message_id": metadata.get("message_id"),
        "session_id": metadata.get("session_id"),
        "user_id": metadata.get("user_id") or (user or {}).get("id"),
        "task": metadata.get("task"),
        "files": files,
        "features": metadata.get("features") or {},
        "user": _user_summary(user),
    }
    return body


@dataclass
class ChatRequest:
    model_id: str
    messages: list[dict]
    stream: bool = True
    user: dict = field(default_factory=dict)
    chat_id: str | None = None
    message_id: str | None = None
    task: str | None = None
    files: list[dict] = field(default_factory=list)

    @classmethod
    def from_pipe_call(cls, model_id: str, messages: list[dict], body: dict) -> ChatRequest:
        metadata = body.get(METADATA_KEY) or {}
        user = metadata.get("user") or _user_summary(body.get("user"))
        stream = bool(body.get("stream", True))
        task = metadata.get("task") or _task_from_prompt(messages, stream)
        return cls(
            model_id=model_id,
            messages=messages,
            stream=stream,
            user=user,
            chat_id=metadata.get("chat_id"),
            message_id=metadata.get("message_id"),
            task=task,
            files=list(metadata.get("files") or []),
        )

    @property
    def user_id(self) -> str | None:
        return self.user.get("id")

    @property
    def user_message(self) -> str:
        """What the user typed last, whatever its content shape, without what Open WebUI adds."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return typed_text(text_of(message.get("content")))
        return ""


# Open WebUI 0.12 puts its own RAG template (file context, "### Task: … <context>…</context>")
# and a list of attached files in front of the user's words in the last message.
_ATTACHED_FILES = re.compile(r"^\s*<attached_files>.*?</attached_files>\s*", re.S)
_USER_QUERY = re.compile(r"<user_query>\s*(.*?)\s*</user_query>", re.S)


def typed_text(text: str) -> str:
    """The user's own words from a message Open WebUI may have wrapped with file context."""
    unwrapped = _ATTACHED_FILES.sub("", text)
    if unwrapped.lstrip().startswith("### Task:") and "</context>" in unwrapped:
        # Only what follows the context is the user's: a retrieved document can hold
        # `<user_query>` tags of its own, and the template's closing tag comes after it.
        tail = unwrapped.rsplit("</context>", 1)[1]
        query = _USER_QUERY.search(tail)  # a template with <user_query>{{QUERY}}</user_query>
        unwrapped = query.group(1) if query else _ATTACHED_FILES.sub("", tail)
    return unwrapped.strip() or text


def _user_summary(user: Any) -> dict:
    if not isinstance(user, dict):
        return {}
    return {key: user[key] for key in ("id", "name", "email", "role") if key in user}


def _task_from_prompt(messages: list[dict], stream: bool) -> str | None:
    if stream or not messages:
        return None
    last = text_of(messages[-1].get("content")).lstrip()
    return "background_task" if last.startswith(_TASK_PROMPT_PREFIX) else None
