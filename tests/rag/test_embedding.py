"""The offline embedder: real vectors from the shipped model, no server, no download."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from pipekit.rag.embedding import MAX_TOKENS, LocalEmbedder, get_local_embedder


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return get_local_embedder()


def cosine(embedder: LocalEmbedder, first: str, second: str) -> float:
    a, b = embedder.embed_array([first, second])
    return float(a @ b)


def test_paraphrases_are_closer_than_unrelated_text(embedder):
    question = "How do I drop a table?"
    paraphrase = cosine(embedder, question, "Which SQL command removes a table?")
    unrelated = cosine(embedder, question, "The cat sat on the mat in the sun.")
    assert paraphrase > 0.4 and unrelated < 0.2 and paraphrase > unrelated + 0.3


def test_vectors_have_the_model_dimension_and_unit_length(embedder):
    vectors = embedder.embed(["one", "two words", "a rather longer sentence here"])
    assert embedder.dimension == 384 and embedder.model_name == "local:all-MiniLM-L6-v2"
    assert [len(vector) for vector in vectors] == [384] * 3
    assert all(isinstance(x, float) for x in vectors[0])
    assert np.allclose(np.linalg.norm(np.array(vectors), axis=1), 1.0, atol=1e-5)


def test_empty_list_gives_no_vectors(embedder):
    assert embedder.embed([]) == []
    assert embedder.embed_array([]).shape == (0, 384)


def test_a_texts_vector_does_not_depend_on_the_texts_embedded_with_it():
    # A chunk embedded during an ingest must get the vector a query of the same words gets.
    # bge-small's int8 graph scales activations over a whole batch, so it is run text by text.
    from pipekit.rag.embedding import make_embedder

    pair = make_embedder("local")
    texts = [
        "Run `oc rollout restart deployment/checkout -n shop` to replace every pod.",
        "파드가 OOMKilled 상태로 종료되면 메모리 한도를 늘리세요.",
        "The payment gateway timeout is 45 seconds, set in PAYMENT_TIMEOUT_S.",
        "If you like neither System V nor systemd, you might like openrc or runit. " * 8,
        "git rebase --onto main topic~3 topic",
    ]
    together = pair.embed_array(texts)
    alone = np.array([pair.embed_array([text])[0] for text in texts])
    assert np.array_equal(together, alone)


def test_korean_and_blank_input_embed_without_error(embedder):
    korean, blank, mixed = embedder.embed(
        ["파드가 계속 재시작됩니다", "", "OOM 오류로 pod가 죽어요"]
    )
    for vector in (korean, blank, mixed):
        assert len(vector) == 384 and np.isfinite(vector).all()


def test_long_input_is_truncated_to_the_model_window(embedder):
    # Whatever follows the first 256 tokens cannot change the vector.
    head = "the deployment rolls out new pods " * 60
    assert len(head.split()) > MAX_TOKENS
    first, second = embedder.embed_array([head + "cats " * 3000, head + "로그 " * 3000])
    assert np.allclose(first, second, atol=1e-5)


def test_concurrent_callers_get_the_same_vectors(embedder):
    texts = [f"question {i} about memory limits" for i in range(8)]
    expected = embedder.embed_array(texts)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: embedder.embed_array(texts), range(16)))
    assert all(np.allclose(result, expected, atol=1e-5) for result in results)


def test_one_embedder_per_process_and_imports_stay_light():
    assert get_local_embedder() is get_local_embedder()
    # Importing the package or the module must not load onnxruntime: pipelines that never
    # embed should not pay for it.
    probe = (
        "import sys, pipekit.rag, pipekit.rag.embedding as e; e.get_local_embedder();"
        "sys.exit('onnxruntime' in sys.modules or 'tokenizers' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", probe], timeout=60).returncode == 0


def test_ollama_embedder_is_shared_and_a_missing_model_names_the_pull(fake_ollama):
    from pipekit.rag.embedding import EmbeddingError, make_embedder

    embedder = make_embedder("ollama:bge-m3", fake_ollama.url)
    assert embedder is make_embedder("ollama:bge-m3", fake_ollama.url)
    assert embedder.embed_array(["a pod", "a node"]).shape == (2, embedder.dimension)
    with pytest.raises(EmbeddingError, match="run `ollama pull nope`"):
        make_embedder("ollama:nope", fake_ollama.url).embed(["x"])


def test_default_pair_scores_the_mean_of_both_models_cosines():
    from pipekit.rag.embedding import default_embedder, make_embedder

    pair = make_embedder("local")
    assert pair is default_embedder() and pair.dimension == 768
    assert pair.model_name == "local:all-MiniLM-L6-v2+bge-small-en-v1.5"
    assert make_embedder(pair.model_name) is pair
    minilm, bge = make_embedder("local:all-MiniLM-L6-v2"), make_embedder("local:bge-small-en-v1.5")
    texts = ["How do I drop a table?", "Which SQL command removes a table?", "Cats sleep a lot."]
    vectors = pair.embed_array(texts)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for model in (minilm, bge):
        assert model.dimension == 384
    expected = (cosine(minilm, *texts[:2]) + cosine(bge, *texts[:2])) / 2
    assert float(vectors[0] @ vectors[1]) == pytest.approx(expected, abs=1e-5)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.3


def test_unknown_embedder_names_the_choices():
    from pipekit.rag.embedding import make_embedder

    with pytest.raises(ValueError, match="local:bge-small-en-v1.5"):
        make_embedder("local:gpt")
