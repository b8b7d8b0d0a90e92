"""What every embedder offers, and the error they raise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from pipekit.llm import LLMError


class EmbeddingError(LLMError):
    """The embedding model could not be reached or is missing: the message says which."""


class Embedder(Protocol):
    """Texts in, unit vectors out: a dot product of two vectors is their cosine similarity.

    Besides its vectors, an embedder says how much hybrid search should trust them: the
    vector share against BM25 for an English question, and how far it falls for an all-Hangul
    one (an English model reads Korean as unknown tokens, so BM25 has to carry it).
    """

    model_name: str  # `local:…` or `ollama:…`: recorded per collection, it must match later
    multilingual: bool
    dense_weight: float
    korean_dense_drop: float

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: list[str]) -> list[list[float]]: ...

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Shape (len(texts), dimension), float32; [] gives an empty array."""
        ...

    def embed_query(self, text: str) -> np.ndarray: ...


class EnsembleMember(Embedder, Protocol):
    """An offline model that can hand its work to the runner pool, run by run."""

    def runs(self, texts: list[str]) -> list[Callable[[], np.ndarray]]:
        """Calls that together embed the texts, each giving one or more rows in text order."""
        ...
