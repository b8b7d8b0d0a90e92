"""Is a message about a topic? By keywords, or by embedding similarity to example phrases.

A topic is written as its name followed by example phrasings, separated by `|`:
`politics | Who should I vote for? | What do you think of this party?`. The offline MiniLM
embedder compares the message with each phrase; the best cosine similarity counts. Short
names alone score low (0.2-0.35 for a clearly matching question), a few example questions
0.5-0.9, unrelated text stays below about 0.2.

The embedder is English: Korean and other scripts mostly become unknown tokens, so list
keywords for them. Keywords match case- and width-insensitively; an ASCII keyword matches
whole words (`vote` not in `devote`; `elect*` is a prefix), any other is a substring, since
Korean particles attach to the word (`선거` in `선거에서`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pipekit.embeddings import get_local_embedder
from pipekit.guards.normalize import basic

# The model reads 256 tokens at most; a long message is judged by its start and its end.
EMBED_CHARS = 2_000


@dataclass(frozen=True)
class Topic:
    name: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class TopicMatch:
    topic: str
    how: str  # "keyword" or "similarity"
    score: float = 1.0


def parse_topics(lines: list[str]) -> list[Topic]:
    topics = []
    for line in lines:
        phrases = tuple(part.strip() for part in line.split("|") if part.strip())
        if phrases:
            topics.append(Topic(phrases[0], phrases))
    return topics


def keyword_match(text: str, keywords: list[str]) -> TopicMatch | None:
    if not keywords or not text:
        return None
    folded = basic(text)
    for keyword in keywords:
        pattern = _keyword_pattern(keyword)
        if pattern is not None and pattern.search(folded):
            return TopicMatch(keyword.strip(), "keyword")
    return None


def similarity_match(text: str, topics: list[Topic], threshold: float) -> TopicMatch | None:
    """The most similar topic at or above `threshold`, or None. Loads the embedder once."""
    if not topics or not text.strip():
        return None
    pieces = [text] if len(text) <= EMBED_CHARS else [text[:EMBED_CHARS], text[-EMBED_CHARS:]]
    message = get_local_embedder().embed_array(pieces)
    best: TopicMatch | None = None
    for topic in topics:
        score = float((message @ _phrase_vectors(topic.phrases).T).max())
        if score >= threshold and (best is None or score > best.score):
            best = TopicMatch(topic.name, "similarity", round(score, 3))
    return best


@lru_cache(maxsize=256)
def _phrase_vectors(phrases: tuple[str, ...]) -> np.ndarray:
    return get_local_embedder().embed_array(list(phrases))


@lru_cache(maxsize=1024)
def _keyword_pattern(keyword: str) -> re.Pattern[str] | None:
    word = basic(keyword)
    prefix = word.endswith("*")
    word = word.rstrip("*").strip()
    if not word:
        return None
    if not word.isascii():
        return re.compile(re.escape(word))
    end = "" if prefix else r"(?![0-9a-z_])"
    return re.compile(r"(?<![0-9a-z_])" + re.escape(word) + end)
