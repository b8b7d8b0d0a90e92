"""Stream items that Open WebUI renders besides text: status lines and sources (citations).

A pipe yields these dicts from its generator; the pipelines server sends each one as an SSE
`data:` line and Open WebUI hands `event` to its event emitter.
"""

from __future__ import annotations

from typing import Any


def status(description: str, *, done: bool = False, hidden: bool = False) -> dict[str, Any]:
    """A status line above the answer ("Searching…", "Found 3 passages")."""
    return {
        "event": {
            "type": "status",
            "data": {"description": description, "done": done, "hidden": hidden},
        }
    }


def source(
    name: str,
    text: str,
    *,
    url: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One cited source: Open WebUI shows it as a chip under the answer, numbered in order."""
    # Open WebUI merges sources by metadata.source and shows a URL there instead of the
    # name unless the entry is marked external.
    meta = {"source": url or name, "name": name, **({"external": True} if url else {})}
    meta.update(metadata or {})
    origin: dict[str, Any] = {"name": name}
    if url:
        origin["url"] = url
    return {
        "event": {
            "type": "source",
            "data": {"source": origin, "document": [text], "metadata": [meta]},
        }
    }


def is_event(item: Any) -> bool:
    return isinstance(item, dict) and "event" in item
