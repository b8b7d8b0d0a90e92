"""Embeddings from an Ollama server: the choice for a model the offline set lacks."""

from __future__ import annotations

import functools

import numpy as np

from pipekit.llm import errors

from .base import EmbeddingError

BATCH_SIZE = 32  # texts per /api/embed request


class OllamaEmbedder:
    """An Ollama embedding model (nomic-embed-text, bge-m3 for Korean) through `/api/embed`."""

    def __init__(self, model: str, base_url: str, timeout_s: float = 120.0) -> None:
        import ollama

        self.model = model
        self.multilingual = True  # bge-m3, nomic-embed-text: assume so; hybrid still helps
        self.dense_weight = 0.7
        self.korean_dense_drop = 0.0
        self.base_url = base_url
        self.model_name = f"ollama:{model}"
        self._client = ollama.Client(host=base_url, timeout=timeout_s)
        self._dimension: int | None = None

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = len(self.embed(["dimension probe"])[0])
        return self._dimension

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors: list[list[float]] = []
        try:
            for start in range(0, len(texts), BATCH_SIZE):
                reply = self._client.embed(
                    model=self.model, input=texts[start : start + BATCH_SIZE]
                )
                vectors.extend(list(vector) for vector in reply.embeddings)
        except Exception as error:  # ollama raises httpx and its own ResponseError
            failure = errors.embedding_failed(self.base_url, self.model, error)
            raise EmbeddingError(failure.user_message, kind=failure.kind) from error
        self._dimension = len(vectors[0]) if vectors else self._dimension
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_array([text])[0]

    def embed_array(self, texts: list[str]) -> np.ndarray:
        vectors = self.embed(texts)
        array = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
        norms = np.linalg.norm(array, axis=1, keepdims=True)
        return array / np.clip(norms, 1e-12, None)


@functools.lru_cache(maxsize=16)
def ollama_embedder(model: str, base_url: str) -> OllamaEmbedder:
    """One client per model and URL, shared by every query: a new HTTP client costs ms."""
    return OllamaEmbedder(model, base_url)
