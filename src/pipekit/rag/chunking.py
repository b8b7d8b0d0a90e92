"""Documents into chunks that know where they come from.

A document is cut at its headings first, then each section with LlamaIndex's
SentenceSplitter (sentence-aware, size and overlap in tokens; its secondary split knows the
CJK full stops, and Korean sentences end in '.', '?' or '!' like English ones). Each chunk
keeps its document title and heading path: they are embedded and indexed with the text, so a
passage that never repeats its subject ("Run it with --force") is still found by it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from .sources import SourceDocument

DEFAULT_CHUNK_SIZE = 320
DEFAULT_CHUNK_OVERLAP = 40

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass
class Chunk:
    chunk_id: str
    doc_id: str
    position: int
    text: str  # what the model reads and the user sees
    context: str  # "Title › Section": embedded and indexed along with the text

    @property
    def indexed_text(self) -> str:
        return indexed_text(self.doc_id, self.context, self.text)


def indexed_text(doc_id: str, context: str, text: str) -> str:
    """What is embedded and keyword-indexed: file path words, title and headings, text.

    File and folder names are often the best summary a document has (runbooks/oom-killed.md).
    """
    where = _path_words(doc_id)
    title = context.split(" › ", 1)[0]
    return "\n".join(
        part for part in (where if where.lower() != title.lower() else "", context, text) if part
    )


def splitter_for(chunk_size: int, chunk_overlap: int):
    """LlamaIndex's SentenceSplitter for these sizes (the overlap is at most half a chunk)."""
    return _splitter(chunk_size, min(chunk_overlap, chunk_size // 2))


@lru_cache(maxsize=8)
def _splitter(chunk_size: int, chunk_overlap: int):
    from .store import import_llama_index

    import_llama_index()
    from llama_index.core.node_parser import SentenceSplitter

    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)


def chunk_document(
    document: SourceDocument,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
) -> list[Chunk]:
    splitter = splitter_for(chunk_size, chunk_overlap)
    chunks: list[Chunk] = []
    for headings, body in sections(document.text):
        path = [h for h in headings if h.strip().lower() != document.title.strip().lower()]
        context = " › ".join(part for part in [document.title, *path] if part)
        for piece in splitter.split_text(body):
            piece = piece.strip()
            if not piece:
                continue
            position = len(chunks)
            digest = hashlib.sha256(f"{document.doc_id}\0{position}\0{piece}".encode()).hexdigest()
            chunks.append(Chunk(digest[:32], document.doc_id, position, piece, context))
    return chunks


def _path_words(doc_id: str) -> str:
    if "://" in doc_id:  # URLs: the title says more than the path
        return ""
    stem = doc_id.rsplit(".", 1)[0] if "." in doc_id.rsplit("/", 1)[-1] else doc_id
    return re.sub(r"[/_\-]+", " ", stem).strip()


def sections(text: str) -> list[tuple[list[str], str]]:
    """(heading path, body) for each part of a markdown-ish text; text before any heading too."""
    result: list[tuple[list[str], str]] = []
    stack: list[tuple[int, str]] = []
    body: list[str] = []

    def flush() -> None:
        content = "\n".join(body).strip()
        if content:
            result.append(([title for _, title in stack], content))
        body.clear()

    in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else _HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, match.group(2).strip()))
        else:
            body.append(line)
    flush()
    if not result and stack:  # headings only: index them rather than nothing
        result.append(([], "\n".join(title for _, title in stack)))
    return result
