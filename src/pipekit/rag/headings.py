"""Headings of a text: its sections with their heading paths, and its title.

Reading a document (its title) and chunking it (its sections) both need this, so it sits
below both: headings are `#` lines (Markdown) and underlined titles, never inside code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
# A title underlined by a row of one character (Markdown setext, AsciiDoc, reStructuredText):
# the character gives the level.
_UNDERLINE_LEVELS = {"=": 1, "-": 2, "~": 3, "^": 4, "+": 5}
_UNDERLINE = re.compile(r"^([=\-~^+])\1{2,}\s*$")


def sections(text: str, *, markdown: bool = True) -> list[tuple[list[str], str]]:
    """(heading path, body) for each part of a text; text before any heading too.

    Headings are `#` lines (when `markdown`) and underlined titles. Fenced code (```) and
    AsciiDoc delimited blocks (a row of 4+ `-`, `.`, `=` or `*` after a blank line) are body.
    """
    result: list[tuple[list[str], str]] = []
    stack: list[tuple[int, str]] = []
    body: list[str] = []

    def flush() -> None:
        content = "\n".join(body).strip()
        if content:
            result.append(([title for _, title in stack], content))
        body.clear()

    for level, line in _scan(text, markdown):
        if not level:
            body.append(line)
            continue
        flush()
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, line))
    flush()
    if not result and stack:  # headings only: index them rather than nothing
        result.append(([], "\n".join(title for _, title in stack)))
    return result


def document_title(text: str, *, markdown: bool = True) -> str:
    """The heading a text opens with when no other heading ranks as high ("# Guide" over its
    "## Install"), else its first line when that reads as a title (short, not a sentence);
    "" when neither (the caller falls back to the file name)."""
    scanned = list(_scan(text, markdown))
    first = next((i for i, (level, line) in enumerate(scanned) if level or line.strip()), None)
    if first is None:
        return ""
    level, line = scanned[first]
    if not level:
        line = line.strip()
        return line if len(line) <= 80 and not line.endswith((".", "!", "?", ":", ";")) else ""
    later = [other for other, _ in scanned[first + 1 :] if other]
    return line if all(other > level for other in later) else ""


def _scan(text: str, markdown: bool) -> Iterator[tuple[int, str]]:
    """(heading level, title) for each heading and (0, line) for every other line."""
    block_end: str | None = None  # the line that closes the open code block
    pending: str | None = None  # the previous body line, held back: it may be a title
    for line in text.splitlines():
        stripped = line.strip()
        if block_end is not None:
            if stripped == block_end or (block_end == "```" and stripped.startswith("```")):
                block_end = None
        elif stripped.startswith("```") or (
            _is_block_delimiter(stripped) and not (pending or "").strip()
        ):
            block_end = "```" if stripped.startswith("```") else stripped
        else:
            underline = _UNDERLINE.match(stripped)
            if underline and pending is not None and _is_underlined_title(pending, stripped):
                yield _UNDERLINE_LEVELS[underline.group(1)], pending.strip()
                pending = None
                continue
            match = _HEADING.match(line) if markdown else None
            if match:
                if pending is not None:
                    yield 0, pending
                    pending = None
                yield len(match.group(1)), match.group(2).strip()
                continue
        if pending is not None:
            yield 0, pending
        pending = line if block_end is None else None
        if block_end is not None:
            yield 0, line
    if pending is not None:
        yield 0, pending


def _is_block_delimiter(line: str) -> bool:
    return len(line) >= 4 and line[0] in "-.=*" and line == line[0] * len(line)


def _is_underlined_title(title_line: str, underline: str) -> bool:
    """`Install\n-------`: a short line, not indented, and an underline about as long."""
    title = title_line.strip()
    return (
        bool(title)
        and not title_line[:1].isspace()
        and len(title) <= 100
        and abs(len(underline) - len(title)) <= 2
    )
