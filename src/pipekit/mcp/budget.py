"""Output budgets: one tool result must never flood the model's context.

A log of 50,000 lines or a namespace with 900 pods is normal in a cluster. Every tool result
passes through `fit`, which collapses repeated lines, keeps the newest (or first) lines within
a line and character budget, and says what was cut and how to narrow the next call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Keep = Literal["head", "tail"]

# Timestamps and similar prefixes that make otherwise identical log lines differ.
_PREFIX = re.compile(
    r"^\s*(?:\[?\d{4}-\d{2}-\d{2}[T ][\d:.,]+(?:Z|[+-]\d{2}:?\d{2})?\]?|"
    r"[A-Z][a-z]{2} +\d+ [\d:]+|\d{2}:\d{2}:\d{2}(?:[.,]\d+)?|I\d{4} [\d:.]+)\s*"
)


@dataclass(frozen=True)
class Budget:
    """The most one tool result may hold."""

    max_chars: int = 12_000
    max_lines: int = 250


DEFAULT_BUDGET = Budget()


def collapse_repeats(lines: Iterable[str]) -> list[str]:
    """Fold runs of identical lines (ignoring a leading timestamp) into `line (×N)`."""
    out: list[str] = []
    last_key: str | None = None
    count = 0
    for line in lines:
        key = _PREFIX.sub("", line, count=1)
        if key == last_key:
            count += 1
            continue
        if count > 1:
            out[-1] = f"{out[-1]} (×{count})"
        out.append(line)
        last_key, count = key, 1
    if count > 1:
        out[-1] = f"{out[-1]} (×{count})"
    return out


def fit(
    text: str | list[str],
    budget: Budget = DEFAULT_BUDGET,
    *,
    keep: Keep = "head",
    hint: str = "",
) -> str:
    """Clip to the budget, keeping the `head` or the `tail`, with a note of what was cut."""
    lines = text.splitlines() if isinstance(text, str) else list(text)
    total = len(lines)
    kept = _take(lines, budget.max_lines, keep)
    # Characters: drop whole lines from the far end until it fits; a single giant line
    # (minified JSON, a stack dump on one line) is cut inside.
    size = sum(len(line) + 1 for line in kept)
    while kept and size > budget.max_chars:
        size -= len(kept.pop(0 if keep == "tail" else -1)) + 1
    long_line = not kept and bool(lines)
    if long_line:
        line = lines[-1] if keep == "tail" else lines[0]
        kept = [line[-budget.max_chars :] if keep == "tail" else line[: budget.max_chars]]
    cut = total - len(kept)
    if cut <= 0 and not long_line:
        return "\n".join(kept)
    where = "earlier" if keep == "tail" else "further"
    note = (
        f"[… {cut:,} {where} lines cut to fit the output budget; {len(kept):,} of {total:,} shown"
    )
    if long_line:
        note = (
            f"[… cut to the {'last' if keep == 'tail' else 'first'} {budget.max_chars:,} characters"
        )
        note += f" of {total:,} lines to fit the output budget"
    note += f". {hint}]" if hint else "]"
    return "\n".join([note, *kept] if keep == "tail" else [*kept, note])


def _take(lines: list[str], limit: int, keep: Keep) -> list[str]:
    if len(lines) <= limit:
        return list(lines)
    return lines[-limit:] if keep == "tail" else lines[:limit]
