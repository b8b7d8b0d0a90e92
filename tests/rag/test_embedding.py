"""The offline embedder: real vectors from the shipped model, no server, no download."""

from __future__ import annotations

import numpy as np
import pytest

from pipekit.rag.embedding import get_local_embedder


@pytest.fixture(scope="module")
def embedder():
    return get_local_embedder()


def cosine(embedder, first: str, second: str) -> float:
    a, b = embedder.embed_array([first, second])
    return float(a @ b)


def test_paraphrases_are_closer_than_unrelated_text(embedder):
    question = "How do I drop a table?"
    assert cosine(embedder, question, "Which SQL command removes a table?") > 0.4
    assert cosine(embedder, question, "The cat sat on the mat in the sun.") < 0.2


def test_vectors_have_the_model_dimension_and_unit_length(embedder):
    vectors = embedder.embed_array(["one", "two words", "a rather longer sentence here"])
    assert vectors.shape == (3, embedder.dimension) == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_batching_does_not_change_vectors(embedder):
    texts = [f"sentence number {i} about pods" for i in range(40)]
    together = embedder.embed_array(texts)
    alone = embedder.embed_array(texts[7:8])
    assert np.allclose(together[7], alone[0], atol=1e-4)


def test_empty_korean_long_and_blank_input(embedder):
    assert embedder.embed([]) == []
    korean, blank, long = embedder.embed(["파드가 계속 재시작됩니다", "", "로그 " * 5000])
    assert len(korean) == len(blank) == len(long) == 384
    assert all(np.isfinite(vector).all() for vector in (korean, blank, long))
