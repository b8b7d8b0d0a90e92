"""From passages to the prompt, the citations and the source events."""

from __future__ import annotations

from typing import Any

from pipekit.pipe.events import source

from .lexical import tokenize
from .search import Passage

DEFAULT_PROMPT_TEMPLATE = (
    "Answer the question using only the numbered passages below. Cite the passages you use "
    "with their numbers in square brackets, like [1] or [2][3]. If the passages do not "
    "contain the answer, say so instead of guessing. Answer in the language of the question.\n\n"
    "Passages:\n{context}\n\nQuestion: {question}"
)
UNCITED_PROMPT_TEMPLATE = (
    "Answer the question using only the passages below. If they do not contain the answer, "
    "say so instead of guessing. Answer in the language of the question.\n\n"
    "Passages:\n{context}\n\nQuestion: {question}"
)
# A passage that shares this share of the question's keywords is relevant whatever its
# cosine: Korean passages score lower cosines, and its keywords are the morphemes BM25 uses.
KEYWORD_COVERAGE_RELEVANT = 0.5


def is_relevant(passage: Passage, question: str, cutoff: float) -> bool:
    if passage.similarity >= cutoff:
        return True
    wanted = set(tokenize(question))
    if not wanted:
        return False
    present = set(tokenize(f"{passage.context}\n{passage.text}"))
    return len(wanted & present) / len(wanted) >= KEYWORD_COVERAGE_RELEVANT


def label(passage: Passage) -> str:
    return passage.title or passage.metadata.get("source") or passage.doc_id


def passages_as_context(passages: list[Passage]) -> str:
    blocks = []
    for number, passage in enumerate(passages, 1):
        where = passage.url or passage.metadata.get("source") or passage.doc_id
        heading = passage.context or label(passage)
        blocks.append(f"[{number}] {heading} ({where})\n{passage.text}")
    return "\n\n".join(blocks)


def passage_events(passages: list[Passage]) -> list[dict[str, Any]]:
    """One Open WebUI source per passage, in citation order, so [n] links to chip n."""
    return [
        source(
            label(passage),
            passage.text,
            url=passage.url,
            metadata={
                "collection": passage.collection,
                "doc_id": passage.doc_id,
                "relevance": round(passage.similarity, 3),
            },
        )
        for passage in passages
    ]


def build_prompt(template: str, passages: list[Passage], question: str) -> str:
    context = passages_as_context(passages)
    try:
        return template.format(context=context, question=question)
    except (KeyError, IndexError, ValueError):
        # A template with stray braces must not break answers: append what it lacks.
        return f"{template}\n\nPassages:\n{context}\n\nQuestion: {question}"


def footnotes(passages: list[Passage]) -> str:
    lines = ["\n\n**Sources**"]
    for number, passage in enumerate(passages, 1):
        where = passage.url or passage.metadata.get("source") or passage.doc_id
        lines.append(f"{number}. {label(passage)} — {where}")
    return "\n".join(lines)
