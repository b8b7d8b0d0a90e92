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
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from .sources import SourceDocument

DEFAULT_CHUNK_SIZE = 320
DEFAULT_CHUNK_OVERLAP = 40

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
# A title underlined by a row of one character (Markdown setext, AsciiDoc, reStructuredText):
# the character gives the level.
_UNDERLINE_LEVELS = {"=": 1, "-": 2, "~": 3, "^": 4, "+": 5}
_UNDERLINE = re.compile(r"^([=\-~^+])\1{2,}\s*$")
# Plain-text files (AsciiDoc manuals such as git's, reStructuredText) use `#` for shell
# comments, not headings; everything else (Markdown, HTML, uploads) reads `#` as a heading.
_PLAIN_TEXT_TYPES = {"txt", "text", "rst"}
_WORD = re.compile(r"[a-z]+")
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
