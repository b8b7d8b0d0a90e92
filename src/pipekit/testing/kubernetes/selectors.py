"""Kubernetes label and field selectors, as the API server matches them on list calls."""

from __future__ import annotations

import re
from typing import Any


def _split_selector(selector: str) -> list[str]:
    """Split on commas outside parentheses: `app in (a,b),tier=web`."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def label_selector_matches(selector: str, labels: dict[str, str]) -> bool:
    for term in _split_selector(selector or ""):
        if match := re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\((.*)\)", term):
            key, op, values = match.group(1), match.group(2), match.group(3)
            allowed = {v.strip() for v in values.split(",")}
            if (labels.get(key) in allowed) != (op == "in"):
                return False
        elif match := re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)", term):
            key, op, value = match.groups()
            if (labels.get(key) == value) != (op != "!="):
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def field_selector_matches(selector: str, obj: dict[str, Any]) -> bool:
    for term in _split_selector(selector or ""):
        match = re.fullmatch(r"([\w.]+)\s*(==|=|!=)\s*(.*)", term)
        if not match:
            return False
        path, op, value = match.groups()
        current: Any = obj
        for part in path.split("."):
            current = current.get(part) if isinstance(current, dict) else None
        if (str(current or "") == value) != (op != "!="):
            return False
    return True
