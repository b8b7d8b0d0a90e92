"""Background task answers (title, tags, follow-ups) in the shape Open WebUI parses.

Open WebUI's task prompts end with `JSON format: { "title": … }` and parse the first JSON
object of the answer. A small model rambles around it, nests dicts where strings belong or
echoes the placeholder; a title that fails to parse shows as raw text in the sidebar. So the
answer is cut down to that one object, short, and what cannot be repaired becomes a valid
empty (or plain) value.
"""

from __future__ import annotations

import json
import re
from typing import Any

_ASKED_KEY = re.compile(r'JSON format:\s*\{\s*"(\w+)"')
_CHAT_HISTORY = re.compile(r"<chat_history>\s*(.*?)\s*</chat_history>", re.S)
_TITLE_WORDS = 6
_MAX_ITEMS = {"tags": 6, "follow_ups": 5, "queries": 3}
_MAX_ITEM_CHARS = {"tags": 30, "follow_ups": 400, "queries": 200}
_PLACEHOLDERS = {"your concise title here", "tag1", "tag2", "tag3"}


def tidy_task_answer(prompt: str, answer: str) -> str:
    """The answer as the JSON object the task prompt asks for; other answers unchanged."""
    asked = _ASKED_KEY.search(prompt)
    if asked is None:
        return answer.strip()
    key = asked.group(1)
    value = _first_value(answer, key)
    if key == "title":
        return _dumps({key: _title(value, prompt)})
    items = [_item_text(item) for item in value] if isinstance(value, list) else []
    limit = _MAX_ITEM_CHARS.get(key, 200)
    kept = [item[:limit] for item in items if item and item.lower() not in _PLACEHOLDERS]
    if key == "tags" and not kept:
        kept = ["General"]  # what Open WebUI's own prompt says to answer for a short chat
    return _dumps({key: list(dict.fromkeys(kept))[: _MAX_ITEMS.get(key, 5)]})


def _first_value(answer: str, key: str) -> Any:
    decoder = json.JSONDecoder()
    for start in (match.start() for match in re.finditer(r"\{", answer)):
        try:
            found, _ = decoder.raw_decode(answer, start)
        except ValueError:
            continue
        if isinstance(found, dict) and key in found:
            return found[key]
    return None


def _title(value: Any, prompt: str) -> str:
    title = " ".join(str(value).split()).strip("\"'“”#*") if isinstance(value, str) else ""
    if not title or title.lower() in _PLACEHOLDERS:
        # Better the first words the user wrote than a placeholder or nothing.
        history = _CHAT_HISTORY.search(prompt)
        first_line = history.group(1).splitlines()[0] if history else ""
        title = re.sub(r"^\s*USER:\s*", "", first_line).strip() or "New chat"
    words = title.split()
    return " ".join(words[:_TITLE_WORDS]).rstrip(",.;:?!") or "New chat"


def _item_text(item: Any) -> str:
    if isinstance(item, dict):  # {"name": …} or {"message": …} where a string belongs
        item = next((v for k, v in item.items() if k in ("name", "message", "text")), "")
    return " ".join(str(item).split()) if isinstance(item, str | int | float) else ""


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)
