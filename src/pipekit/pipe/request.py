"""What a chat turn is about, read the way Open WebUI sends it: the one reader of its bodies
for pipes and filters alike.

A filter's inlet body carries `metadata` (user_id, chat_id, message_id, files, task); its
outlet body carries `chat_id` and `id` (the answer's message id) at the top level; both get
the user as the separate `user` argument. Any of them may be missing (API callers, old
clients).

The body that reaches `pipe()` has just model, messages, stream and user. The pipe's own
inlet copies the rest into the body under METADATA_KEY, which the server passes on to
`pipe()`, where `ChatRequest` reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pipekit.llm import text_of

METADATA_KEY = "pipekit_metadata"
# Whose request it is when nobody says: a shared, clearly named key rather than a crash.
ANONYMOUS = "anonymous"

# Open WebUI's background requests (title, tags, follow-ups, search queries, autocomplete)
# start their prompt with this heading; used when the inlet metadata did not come through.
_TASK_PROMPT_PREFIX = "### Task:"


def metadata_of(body: dict) -> dict[str, Any]:
    """The inlet body's `metadata`; {} when there is none."""
    metadata = body.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def user_id(body: dict, user: dict | None = None) -> str | None:
    """The user's id: from the `user` argument, the body's `user`, else metadata.user_id."""
    body_user = body.get("user")
    for candidate in (
        (user or {}).get("id"),
        body_user.get("id") if isinstance(body_user, dict) else None,
        metadata_of(body).get("user_id"),
    ):
        if isinstance(candidate, str | int) and str(candidate).strip():
            return str(candidate)
    return None


def chat_id(body: dict) -> str | None:
    """The chat's id: metadata.chat_id in the inlet, `chat_id` in the outlet."""
    value = metadata_of(body).get("chat_id") or body.get("chat_id")
    return str(value) if value else None


def message_id(body: dict) -> str | None:
    """The answer's message id: metadata.message_id in the inlet, `id` in the outlet."""
    value = metadata_of(body).get("message_id") or body.get("id")
    return str(value) if value else None


def model_id(body: dict) -> str:
    """The model (pipe) the request is for, else "unknown"."""
    model = body.get("model")
    return str(model) if model else "unknown"


def task_of(body: dict) -> str | None:
    """The background task (title_generation, tags_generation, …) a request is; None for a
    chat message."""
    return metadata_of(body).get("task") or None


def user_summary(user: Any) -> dict:
    """The user's id, name, email and role: what a pipe may know of them."""
    if not isinstance(user, dict):
        return {}
    return {key: user[key] for key in ("id", "name", "email", "role") if key in user}


def capture_metadata(body: dict, user: dict | None) -> dict:
    """Copy Open WebUI's inlet metadata into the body so `pipe()` can read it."""
    metadata = metadata_of(body)
    body[METADATA_KEY] = {
        "chat_id": chat_id(body),
        "message_id": message_id(body),
        "session_id": metadata.get("session_id"),
        "user_id": user_id(body, user),
        "task": task_of(body),
        "files": metadata.get("files") or body.get("files") or [],
        "features": metadata.get("features") or {},
        "user": user_summary(user),
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
        user = metadata.get("user") or user_summary(body.get("user"))
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


def _task_from_prompt(messages: list[dict], stream: bool) -> str | None:
    if stream or not messages:
        return None
    last = text_of(messages[-1].get("content")).lstrip()
    return "background_task" if last.startswith(_TASK_PROMPT_PREFIX) else None
