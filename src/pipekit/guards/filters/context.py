"""Keys and edits the guard filters share, over `pipekit.pipe.request`'s reading of a body.

Which user, chat and answer a filter call is about is read there, as for pipes; here those
become the keys filters keep state under (rate limits, PII tables, block notices).

In the outlet, Open WebUI 0.12 sends the answer twice: as `content`, and as `output` items
(`{"type": "message", "content": [{"type": "output_text", "text": ...}]}`), which is what
its chat view renders after the outlet. An answer is rewritten in both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipekit.filter import replace_text
from pipekit.llm import text_of
from pipekit.pipe.request import ANONYMOUS, chat_id, message_id, user_id


def user_key(body: dict, user: dict | None) -> str:
    """The user's id, else ANONYMOUS: a shared, clearly named key rather than a crash."""
    return user_id(body, user) or ANONYMOUS


def chat_key(body: dict, user: dict | None) -> str | None:
    """`user/chat` (or `user/message` for chats Open WebUI does not save); None if neither."""
    chat = chat_id(body)
    if chat:
        return f"{user_key(body, user)}/chat:{chat}"
    message = message_id(body)
    return f"{user_key(body, user)}/message:{message}" if message else None


def answer_key(body: dict, user: dict | None) -> str | None:
    """What links an inlet to its outlet: the answer's message id, else the user and chat."""
    return message_id(body) or chat_key(body, user)


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
