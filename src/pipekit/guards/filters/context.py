"""Who, which chat and which answer a filter call is about, read the way Open WebUI sends it.

The inlet body carries `metadata` (user_id, chat_id, message_id); the outlet body carries
`chat_id` and `id` (the answer's message id) at the top level; both get the user as the
separate `user` argument. Any of them may be missing (API callers, old clients).

In the outlet, Open WebUI 0.12 sends the answer twice: as `content`, and as `output` items
(`{"type": "message", "content": [{"type": "output_text", "text": ...}]}`), which is what
its chat view renders after the outlet. An answer is rewritten in both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipekit.filter import message_text, replace_text

ANONYMOUS = "anonymous"


def metadata_of(body: dict) -> dict[str, Any]:
    metadata = body.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def user_id(body: dict, user: dict | None) -> str:
    """The user's id, else ANONYMOUS: a shared, clearly named key rather than a crash."""
    body_user = body.get("user")
    for candidate in (
        (user or {}).get("id"),
        body_user.get("id") if isinstance(body_user, dict) else None,
        metadata_of(body).get("user_id"),
    ):
        if isinstance(candidate, str | int) and str(candidate).strip():
            return str(candidate)
    return ANONYMOUS


def chat_key(body: dict, user: dict | None) -> str | None:
    """`user/chat` (or `user/message` for chats Open WebUI does not save); None if neither."""
    metadata = metadata_of(body)
    chat = metadata.get("chat_id") or body.get("chat_id")
    if chat:
        return f"{user_id(body, user)}/chat:{chat}"
    message = message_id(body)
    return f"{user_id(body, user)}/message:{message}" if message else None


def answer_key(body: dict, user: dict | None) -> str | None:
    """What links an inlet to its outlet: the answer's message id, else the user and chat."""
    return message_id(body) or chat_key(body, user)


def message_id(body: dict) -> str | None:
    """The answer's message id: metadata.message_id in the inlet, `id` in the outlet."""
    value = metadata_of(body).get("message_id") or body.get("id")
    return str(value) if value else None


def model_id(body: dict) -> str:
    model = body.get("model")
    return str(model) if model else "unknown"


def add_system_note(body: dict, note: str) -> None:
    """Append a note to the first system message, or start the conversation with one."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return
    first = messages[0] if messages else None
    if (
        isinstance(first, dict)
        and first.get("role") == "system"
        and isinstance(first.get("content"), str)
    ):
        first["content"] = f"{first['content']}\n\n{note}"
    else:
        messages.insert(0, {"role": "system", "content": note})


def mark(body: dict, filter_name: str, finding: dict[str, Any]) -> None:
    """Record a finding in `metadata.pipekit_guards` for the filters that run after this one.

    Open WebUI drops `metadata` before the model call, so this never reaches the model.
    """
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        metadata = body["metadata"] = {}
    guards = metadata.setdefault("pipekit_guards", {})
    if isinstance(guards, dict):
        guards[filter_name] = finding


def fill(template: str, **values: object) -> str:
    """Fill `{name}` placeholders in an admin-written message; other braces stay as written."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template


def text_of(message: dict | None) -> str:
    """`message_text`, tolerating parts whose text is not a string (they are skipped)."""
    try:
        return message_text(message)
    except TypeError:
        content = message.get("content") if isinstance(message, dict) else None
        parts = [p for p in content or [] if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return message_text({"content": parts})


def output_text_parts(message: dict) -> list[dict]:
    """The text parts of the answer's `output` message items, for editing in place."""
    output = message.get("output")
    parts: list[dict] = []
    for item in output if isinstance(output, list) else []:
        if isinstance(item, dict) and item.get("type") == "message":
            content = item.get("content")
            for part in content if isinstance(content, list) else []:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    parts.append(part)
    return parts


def rewrite_answer(message: dict, rewrite: Callable[[str], str]) -> None:
    """Apply `rewrite` to the answer's `content` and to each of its `output` text parts."""
    text = text_of(message)
    new_text = rewrite(text)
    if new_text != text:
        replace_text(message, new_text)
    for part in output_text_parts(message):
        part["text"] = rewrite(part["text"])


def set_answer(message: dict, text: str) -> None:
    """Make `text` the whole answer, in `content` and in `output`."""
    replace_text(message, text)
    for index, part in enumerate(output_text_parts(message)):
        part["text"] = text if index == 0 else ""


def append_to_answer(message: dict, suffix: str) -> None:
    replace_text(message, text_of(message) + suffix)
    parts = output_text_parts(message)
    if parts:
        parts[-1]["text"] += suffix
