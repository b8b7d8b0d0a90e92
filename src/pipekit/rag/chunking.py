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
import threading
from dataclasses import dataclass
from functools import lru_cache

from .headings import sections
from .sources import SourceDocument

DEFAULT_CHUNK_SIZE = 320
DEFAULT_CHUNK_OVERLAP = 40

# Plain-text files (AsciiDoc manuals such as git's, reStructuredText) use `#` for shell
# comments, not headings; everything else (Markdown, HTML, uploads) reads `#` as a heading.
_PLAIN_TEXT_TYPES = {"txt", "text", "rst"}
_WORD = re.compile(r"[a-z]+")
_IMPORT_LOCK = threading.Lock()
# A DocBook cross-reference quotes the title of the section it points to: 'see Section 6.1,
# “How many Debian distributions are there?”', '6.10절. “pool 디렉터리 안에는…?” 참조'.
_CROSS_REFERENCE_TITLE = re.compile(
    r"((?:Section|Chapter|Appendix)\s+[\dA-Z][\d.]*,?|\d+(?:\.\d+)*\s*[절장]\.?)\s*“[^”]{1,200}”"
)


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

    @property
    def embedded_text(self) -> str:
        return embedded_text(self.doc_id, self.context, self.text)


def embedded_text(doc_id: str, context: str, text: str) -> str:
    """What is embedded: the keyword-indexed text less the titles its cross-references quote.

    A vector sums a passage up, and a quoted title ('see Section 6.1, “How many Debian
    distributions are there?”') pulls it toward the section that title names, above the one
    that answers it. BM25 keeps those words: they only add to a passage's score, and a
    reference often shares its passage's subject (FAQ MRR 0.872 → 0.884, Korean FAQ 0.584 →
    0.597; without them in BM25 too, Korean recall@10 lost a question).
    """
    return _CROSS_REFERENCE_TITLE.sub(r"\1", indexed_text(doc_id, context, text))


def indexed_text(doc_id: str, context: str, text: str) -> str:
    """What is keyword-indexed: file path words, title and headings, text.

    File and folder names are often the best summary a document has (runbooks/oom-killed.md).
    Names run together (howtocurrent.md, crashloopbackoff.md) also get their words spelt out.
    """
    where = _path_words(doc_id)
    title = context.split(" › ", 1)[0]
    if where.lower() == title.lower():
        where = ""
    spelt = _spelt_out(where or title, text)
    if spelt:
        where = f"{where} ({spelt})" if where else f"({spelt})"
    return "\n".join(part for part in (where, context, text) if part)


def _spelt_out(name_words: str, text: str) -> str:
    """Spell out run-together name words: uptodate howtocurrent → up to date, how to current.

    A name word the text itself uses (kubectl) is a word already, and a split with a one-letter
    piece (etcdbackup → etc d backup) is a guess, not words; both are left alone.
    """
    in_text = set(_WORD.findall(text.lower()))
    spelt = []
    for word in name_words.lower().split():
        if len(word) < 5 or not word.isascii() or not word.isalpha() or word in in_text:
            continue
        parts = _english_words(word)
        if len(parts) > 1 and all(len(part) > 1 for part in parts):
            spelt.append(" ".join(parts))
    return ", ".join(spelt)


@lru_cache(maxsize=65536)
def _english_words(word: str) -> tuple[str, ...]:
    import wordninja

    return tuple(wordninja.split(word))


def splitter_for(chunk_size: int, chunk_overlap: int):
    """LlamaIndex's SentenceSplitter for these sizes (the overlap is at most half a chunk)."""
    return _splitter(chunk_size, min(chunk_overlap, chunk_size // 2))


@lru_cache(maxsize=8)
def _splitter(chunk_size: int, chunk_overlap: int):
    # LlamaIndex loads lazily (seconds a plain `pipekit --help` should not pay), and two
    # threads importing llama_index.core at once fail inside its circular imports.
    with _IMPORT_LOCK:
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
    markdown = document.metadata.get("type") not in _PLAIN_TEXT_TYPES
    for headings, body in sections(document.text, markdown=markdown):
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
