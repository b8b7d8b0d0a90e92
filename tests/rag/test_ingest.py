"""Ingestion and search on real Milvus Lite (BM25 and vectors both searched in Milvus),
LlamaIndex splitters and the offline embedder."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipekit.embeddings import EmbeddingError, get_local_embedder
from pipekit.rag.catalog import PENDING, CollectionError
from pipekit.rag.chunking import chunk_document
from pipekit.rag.index import RagIndex
from pipekit.rag.lexical import keyword_terms, tokenize
from pipekit.rag.search import parse_filters
from pipekit.rag.sources import SourceDocument, read_sources
from pipekit.rag.store import StoreConfig, StoreError, milvus_name
from pipekit.testing.server import PIPEKIT

DOCS = {
    "restart.md": "# Restarting a deployment\n\nRun "
    "`oc rollout restart deployment/checkout -n shop` to replace every pod of a deployment "
    "one by one.\n\n## Crash loops\n\nRead the previous container's logs with "
    "`oc logs --previous` when pods are in CrashLoopBackOff.",
    "scale.md": "# Scaling\n\nUse `oc scale deployment/web --replicas=3` to run three replicas.",
    "ko/oom.md": "# 메모리 부족 대응\n\n파드가 OOMKilled 상태로 종료되면 메모리 한도를 늘리세요. "
    "컨테이너의 메모리 사용량을 먼저 확인합니다.",
}


def write_corpus(root: Path, docs: dict[str, str]) -> Path:
    for name, text in docs.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus", DOCS)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[RagIndex]:
    rag = RagIndex(tmp_path / "data")
    yield rag
    rag.close()


def ingest(
    index: RagIndex,
    *sources: Path | str,
    collection: str = "docs",
    allow_private: bool = False,
    **options,
):
    return index.ingest(
        collection,
        read_sources([str(s) for s in sources], delay_s=0, allow_private=allow_private),
        get_local_embedder(),
        **options,
    )


def search_in(index: RagIndex, collections, query: str, **options):
    return index.search(collections, query, get_local_embedder(), **options)


def search(index: RagIndex, query: str, collection: str = "docs", **options):
    collections = index.readable_collections([collection], None, None)
    return index.search(collections, query, get_local_embedder(), **options)


def test_first_run_adds_and_rerun_embeds_nothing(index, corpus):
    first = ingest(index, corpus)
    assert (first.added, first.updated, first.unchanged, first.removed) == (3, 0, 0, 0)
    assert first.chunks_embedded == first.chunks_written > 0

    second = ingest(index, corpus)
    assert (second.added, second.updated, second.unchanged) == (0, 0, 3)
    assert second.chunks_embedded == 0 and second.chunks_written == 0


def test_rerun_updates_changed_removes_vanished_and_search_follows(index, corpus):
    ingest(index, corpus)
    (corpus / "scale.md").write_text(
        "# Scaling\n\nAutoscale with `oc autoscale deployment/web --max=10`.", encoding="utf-8"
    )
    (corpus / "restart.md").unlink()

    summary = ingest(index, corpus)

    assert (summary.added, summary.updated, summary.unchanged, summary.removed) == (0, 1, 1, 1)
    found = {p.doc_id for p in search(index, "rollout restart deployment", top_k=5)}
    assert "restart.md" not in found
    assert "autoscale" in search(index, "autoscale", top_k=1)[0].text


def test_edited_document_embeds_only_its_changed_sections(index, corpus):
    ingest(index, corpus)
    restart = corpus / "restart.md"
    restart.write_text(
        restart.read_text(encoding="utf-8").replace("CrashLoopBackOff", "ImagePullBackOff"),
        encoding="utf-8",
    )
    summary = ingest(index, corpus)
    assert summary.updated == 1
    assert summary.chunks_embedded == 1 and summary.chunks_reused == 1


def test_run_killed_half_way_is_completed_by_the_next(index, corpus):
    ingest(index, corpus)
    # What a kill between "mark pending" and the final write leaves behind.
    index.catalog.mark_pending("docs", "scale.md", "Scaling", str(corpus.resolve()))
    assert "scale.md" not in {p.doc_id for p in search(index, "replicas", top_k=5)}

    summary = ingest(index, corpus)

    assert summary.updated == 1
    assert index.catalog.document_hashes("docs")["scale.md"][0] != PENDING
    assert search(index, "run three replicas", top_k=1)[0].doc_id == "scale.md"


class FailingOnCall:
    """The offline embedder, except that call number `fail_on` raises (Ollama going away)."""

    def __init__(self, fail_on: int) -> None:
        self.inner = get_local_embedder()
        self.model_name, self.dimension = self.inner.model_name, self.inner.dimension
        self.calls, self.fail_on = 0, fail_on

    def embed_array(self, texts):
        self.calls += 1
        if self.calls == self.fail_on:
            raise EmbeddingError("Ollama at http://127.0.0.1:9 did not embed")
        return self.inner.embed_array(texts)


def test_an_embedding_failure_mid_run_stops_it_and_the_next_run_completes_it(index, tmp_path):
    # 200 one-chunk notes: batches of 64, so the second batch fails while others queue.
    notes = {
        f"note-{i:03d}.md": f"Service {i} restarts with oc rollout restart." for i in range(200)
    }
    corpus = write_corpus(tmp_path / "notes", notes)
    with pytest.raises(EmbeddingError, match="did not embed"):
        index.ingest("docs", read_sources([str(corpus)], delay_s=0), FailingOnCall(fail_on=2))
    recorded = index.catalog.document_hashes("docs")
    assert len(recorded) == 64 and PENDING not in {digest for digest, _ in recorded.values()}
    summary = ingest(index, corpus)
    assert (summary.added, summary.unchanged, summary.chunks_embedded) == (136, 64, 136)
    assert index.counts("docs") == (200, 200)
    assert search(index, "Service 199 restarts", top_k=1)[0].doc_id == "note-199.md"


def test_unreadable_files_are_skipped_with_reasons_and_keep_their_old_content(index, corpus):
    (corpus / "image.png").write_bytes(b"\x89PNG")
    (corpus / "blob.txt").write_bytes(b"\x00\x01\x02 binary")
    (corpus / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (corpus / "empty.md").write_text("", encoding="utf-8")
    summary = ingest(index, corpus)
    reasons = dict(summary.skipped)
    assert reasons == {
        "image.png": "unsupported file type .png",
        "blob.txt": "binary content",
        "latin1.txt": "not UTF-8 text",
        "empty.md": "empty file",
    }
    # A file that becomes unreadable is skipped, not removed: nothing is lost.
    (corpus / "scale.md").write_bytes(b"\x00broken")
    again = ingest(index, corpus)
    assert again.removed == 0 and "scale.md" in dict(again.skipped)
    assert search(index, "run three replicas", top_k=1)[0].doc_id == "scale.md"


def test_querying_with_another_embedder_is_a_clear_error(index, corpus):
    ingest(index, corpus)

    class OtherEmbedder:
        model_name = "ollama:bge-m3"
        dimension = 1024

    with pytest.raises(CollectionError, match="indexed with local:all-MiniLM-L6-v2"):
        index.search(index.readable_collections(["docs"], None, None), "x", OtherEmbedder())
    with pytest.raises(CollectionError, match="indexed with"):
        index.ingest("docs", [], OtherEmbedder())


def test_collections_indexed_with_minilm_keep_working_with_the_local_default(index, corpus):
    from pipekit.embeddings import make_embedder

    ingest(index, corpus)  # MiniLM alone: what `local` meant before the pair
    default = make_embedder("local")
    collections = index.readable_collections(["docs"], None, None)
    assert index.search(collections, "run three replicas", default, top_k=1)[0].doc_id == (
        "scale.md"
    )
    (corpus / "new.md").write_text("# Quotas\n\nSet a ResourceQuota per namespace.", "utf-8")
    summary = index.ingest("docs", read_sources([str(corpus)], delay_s=0), default)
    assert (summary.added, summary.unchanged, summary.chunks_embedded) == (1, 3, 1)
    info = index.catalog.collection("docs")
    assert info.embed_model == "local:all-MiniLM-L6-v2" and info.dimension == 384
    # A new collection gets the pair.
    index.ingest("pair", read_sources([str(corpus)], delay_s=0), default)
    assert index.catalog.collection("pair").embed_model == default.model_name
    both = index.readable_collections(["docs", "pair"], None, None)
    found = index.search(both, "ResourceQuota per namespace", default, top_k=2)
    assert {p.collection for p in found} == {"docs", "pair"}
    assert {p.doc_id for p in found} == {"new.md"}


def test_a_weak_collections_best_passage_does_not_outrank_a_strong_match(index, corpus, tmp_path):
    # A chat's one attached file searched along with the team's runbooks (the RAG pipe).
    ingest(index, corpus)
    notes = write_corpus(
        tmp_path / "notes",
        {"payment.md": "# Payment gateway\n\nThe payment gateway timeout is 45 seconds, set in "
         "checkout's PAYMENT_TIMEOUT_S."},
    )  # fmt: skip
    ingest(index, notes, collection="notes")
    both = index.readable_collections(["docs", "notes"], None, None)
    for mode in ("hybrid", "dense", "bm25"):
        found = search_in(index, both, "What is the payment gateway timeout?", mode=mode)
        assert found[0].doc_id == "payment.md", mode
        assert found[0].context == "Payment gateway"


def test_words_run_together_in_file_names_are_found(index, tmp_path):
    # Debian's FAQ and many runbook folders name files like this; the text never says "current".
    faq = write_corpus(
        tmp_path / "faq",
        {"uptodate/howtocurrent.md": "Most people let apt fetch and install the newest packages.",
         "uptodate/aptcacher.md": "A cache of fetched packages saves downloading them twice.",
         "runbooks/crashloopbackoff.md": "Read the logs of the previous container first."},
    )  # fmt: skip
    ingest(index, faq)
    for mode in ("bm25", "hybrid"):
        top = search(index, "How can I keep my system current?", top_k=1, mode=mode)[0]
        assert top.doc_id == "uptodate/howtocurrent.md", mode
        top = search(index, "pod in a crash loop, backing off", top_k=1, mode=mode)[0]
        assert top.doc_id == "runbooks/crashloopbackoff.md", mode


def test_a_section_named_in_a_cross_reference_outranks_the_passage_that_names_it(index, tmp_path):
    # DocBook's default cross-reference style quotes the title of the section it points to; that
    # title is the question the other section answers. Vectors leave it out; BM25 keeps its words.
    faq = write_corpus(
        tmp_path / "faq",
        {"archive/dists.md": "There are three major distributions: stable, testing and unstable.",
         "getting/version.md": "Currently there are three versions of Debian: bookworm is stable. "
                               "Please see Section 6.1, “How many Debian distributions are there?” "
                               "for more information.",
         "archive/dists-ko.md": "데비안에는 세 가지 주요 배포판이 있습니다: stable, testing.",
         "getting/pool.md": "패키지는 pool 디렉터리(6.10절. “데비안 배포판은 몇 개인가요?” 참조)에 "
                            "배포됩니다."},
    )  # fmt: skip
    ingest(index, faq)
    top = search(index, "How many Debian distributions are there?", top_k=1, mode="dense")[0]
    assert top.doc_id == "archive/dists.md"
    top = search(index, "데비안 배포판은 몇 개인가요?", top_k=1, mode="dense")[0]
    assert top.doc_id == "archive/dists-ko.md"
    by_keyword = search(index, "Debian distributions there", top_k=1, mode="bm25")[0]
    assert by_keyword.doc_id == "getting/version.md"
    assert "“How many Debian distributions are there?”" in by_keyword.text


def test_file_name_words_the_text_uses_are_not_split(tmp_path):
    corpus = write_corpus(tmp_path, {"kubectl.md": "Run kubectl get pods."})
    (document,) = read_sources([str(corpus)])
    (chunk,) = chunk_document(document)
    assert chunk.indexed_text.splitlines()[0] == "kubectl"


def test_unknown_collection_names_the_shared_ones(index, corpus):
    ingest(index, corpus)
    with pytest.raises(CollectionError, match="no collection 'nope'.*docs"):
        index.readable_collections(["nope"], None, None)


@pytest.mark.parametrize("name", ["..", "../docs", "docs/../x", ".hidden", 'a"b', ""])
def test_collection_names_that_could_leave_the_data_dir_are_refused(index, corpus, name):
    with pytest.raises(CollectionError, match="is not valid"):
        ingest(index, corpus, collection=name)
    with pytest.raises(CollectionError, match="not valid|no collection"):
        index.readable_collections([name], None, None)


def test_private_collections_are_invisible_to_other_users(index, corpus):
    ingest(index, corpus, collection="alice-notes", owner="alice")
    assert index.readable_collections(["alice-notes"], "alice", None)
    for stranger in ("bob", None):
        with pytest.raises(CollectionError, match="no collection 'alice-notes'"):
            index.readable_collections(["alice-notes"], stranger, None)


def test_hybrid_search_finds_korean_with_particles_and_english_by_title(index, corpus):
    ingest(index, corpus)
    assert (
        search(index, "파드가 OOMKilled 되었어요 메모리를 어떻게 하나요", top_k=1)[0].doc_id
        == "ko/oom.md"
    )
    # The crash-loop section never says "restarting a deployment": its title does.
    top = search(index, "crash loop in a restarting deployment", top_k=1)[0]
    assert top.doc_id == "restart.md" and "Restarting a deployment" in top.context


def test_metadata_filters_limit_the_documents(index, corpus):
    ingest(index, corpus)
    found = search(index, "deployment pods memory", top_k=5, filters=parse_filters("source=ko/*"))
    assert found and {p.doc_id for p in found} == {"ko/oom.md"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_filters("just-a-word")


def test_korean_tokens_match_across_particles_and_endings():
    assert "파드" in tokenize("파드가") and "파드" in tokenize("파드를 재시작")
    # A word the analyser cuts into pieces (파 + 드 + 를) is joined back as written.
    assert "재시작" in tokenize("재시작했다") and "재시작" in tokenize("재시작을 반복해요")
    assert tokenize("싶어요") == []  # endings alone are no keyword
    assert tokenize("가상 패키지는 무엇인가요?") == ["가상", "패키지"]  # nor is "what"
    assert "restart" in tokenize("Restarting pods") and "pod" in tokenize("pods")


def test_korean_question_finds_the_passage_whose_words_differ_only_in_endings(index, tmp_path):
    passages = {
        "disk.md": "노드의 디스크 사용량이 85%를 넘으면 kubelet이 파드를 축출합니다.",
        "pool.md": "데이터베이스 연결 풀이 고갈되면 애플리케이션이 연결을 기다립니다.",
        "undo.md": "디플로이먼트를 이전 리비전으로 롤백하려면 rollout undo를 씁니다.",
    }
    ingest(index, write_corpus(tmp_path / "ko", passages))
    # Not one word of the question appears as written in the first passage.
    top = search(index, "디스크가 꽉 차서 파드가 축출됐어요", top_k=1, mode="bm25")[0]
    assert top.doc_id == "disk.md"
    assert search(index, "롤백은 어떻게 하나요?", top_k=3, mode="bm25")[0].doc_id == "undo.md"


def test_keywords_are_written_as_one_word_each_for_milvus():
    # Milvus' analysers split at '-' and '.': a token keeps its parts together as one word.
    assert keyword_terms("Restart pod-name-7f9c") == "restart pod_name_7f9c pod name 7f9c"
    assert keyword_terms("재시작했다 v1.2") == "시작 재시작 v1_2 v1 2"


def test_keyword_scores_cover_every_chunk_not_only_the_best_few(index, tmp_path):
    # Hybrid search mixes BM25 into every vector candidate; one outside BM25's best few used to
    # count as matching no keyword at all.
    texts = {
        "a.txt": "ResourceQuota " * 3 + "scopes",
        "b.txt": "ResourceQuota spec.hard",
        "c.txt": "a quota per namespace",
        "d.txt": "ResourceQuota caps what pods in a namespace request",
        "e.txt": "scale the web deployment",
    }
    ingest(index, write_corpus(tmp_path / "quota", texts))
    store = index.chunk_store(index.catalog.collection("docs"))
    terms = keyword_terms("ResourceQuota for a namespace")
    assert [hit.chunk.doc_id for hit in store.best_keywords(terms, 2)] == ["d.txt", "c.txt"]
    ids = {hit.chunk.doc_id: hit.chunk.chunk_id for hit in store.best_keywords(terms, 5)}
    scores = store.keyword_scores(terms, [ids["a.txt"], ids["b.txt"]])
    assert scores[ids["a.txt"]] > scores[ids["b.txt"]] > 0  # outside the best two, still scored
    assert len(store.best_keywords(terms, 5)) == 4  # "scale the web deployment": no keyword


def test_chunks_carry_title_and_heading_and_respect_size():
    text = "# Guide\n\n## Install\n\n" + " ".join(["Install the operator first."] * 200)
    document = SourceDocument("guide.md", "Guide", text, "/x")
    chunks = chunk_document(document, chunk_size=120, chunk_overlap=20)
    assert len(chunks) > 3
    assert all(c.context == "Guide › Install" for c in chunks)
    assert all(len(c.text.split()) < 140 for c in chunks)
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_a_subheading_further_down_is_not_the_title_of_the_whole_document(tmp_path):
    # A FAQ answer with no title of its own and a "### 9.1 aptitude" part half-way down.
    page = tmp_path / "uptodate" / "howtocurrent.md"
    page.parent.mkdir()
    page.write_text(
        "One could fetch each file by hand and install it with dpkg.\n\n"
        "### 9.1 aptitude\n\naptitude is the recommended package manager.\n",
        "utf-8",
    )
    (document,) = read_sources([str(page)])
    assert document.title == "howtocurrent"
    first, second = chunk_document(document)
    assert first.context == "howtocurrent" and "9.1" not in first.indexed_text
    assert second.context == "howtocurrent › 9.1 aptitude"


def test_asciidoc_text_uses_underlined_titles_and_keeps_shell_comments_as_text(tmp_path):
    manual = tmp_path / "git-rebase.txt"
    manual.write_text(
        "SYNOPSIS\n--------\n'git rebase' [<upstream>]\n\n"
        "DESCRIPTION\n-----------\nReapply commits on top of another base tip.\n\n"
        "------------\n# Branch: topic\ngit rebase master\n------------\n\n"
        "OPTIONS\n-------\n--onto <newbase>::\n\tStarting point.\n",
        "utf-8",
    )
    (document,) = read_sources([str(manual)])
    # SYNOPSIS is one section among equals, not the manual's title: its file name is.
    assert document.title == "git rebase"
    contexts = [c.context for c in chunk_document(document, chunk_size=40, chunk_overlap=0)]
    assert contexts == ["git rebase › SYNOPSIS", "git rebase › DESCRIPTION", "git rebase › OPTIONS"]
    description = chunk_document(document)[1]
    assert "# Branch: topic" in description.text


def test_korean_text_is_split_at_sentence_ends():
    sentence = "쿠버네티스 파드는 하나 이상의 컨테이너를 묶은 배포 단위입니다. "
    document = SourceDocument("ko.md", "파드", sentence * 60, "/x")
    chunks = chunk_document(document, chunk_size=100, chunk_overlap=10)
    assert len(chunks) > 2
    assert all(c.text.rstrip().endswith("다.") for c in chunks[:-1])


@pytest.fixture
def website(tmp_path: Path) -> Iterator[str]:
    site = tmp_path / "site"
    pages = {
        "index.html": "<html><head><title>Docs home</title></head><body><nav>Menu</nav><main>"
        "<h1>Docs home</h1><p>Welcome to the operator documentation for platform teams.</p>"
        '<a href="install.html">Install</a> <a href="private/secret.html">Secret</a> '
        '<a href="https://elsewhere.example/x.html">Elsewhere</a></main></body></html>',
        "install.html": "<html><head><title>Install</title></head><body><article><h1>Install"
        "</h1><p>Install the operator with the helm chart and wait for the pods to be ready."
        "</p></article></body></html>",
        "private/secret.html": "<html><body><p>Do not index this secret page.</p></body></html>",
        "robots.txt": "User-agent: *\nDisallow: /private/\n",
        "sitemap.xml": '<?xml version="1.0"?><urlset><url><loc>BASE/install.html</loc></url>'
        "<url><loc>BASE/private/secret.html</loc></url></urlset>",
    }
    handler = partial(SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    write_corpus(site, {name: text.replace("BASE", base) for name, text in pages.items()})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()


def test_web_crawl_follows_same_site_links_obeys_robots_and_extracts_text(index, website):
    summary = ingest(index, website, allow_private=True)  # the fake site is on 127.0.0.1
    base = website.rsplit("/", 1)[0]
    assert summary.added == 2
    assert dict(summary.skipped) == {f"{base}/private/secret.html": "disallowed by robots.txt"}
    top = search(index, "install the operator with helm", top_k=1)[0]
    assert top.doc_id == f"{base}/install.html" and top.url == f"{base}/install.html"
    assert "Menu" not in top.text


def test_sitemap_lists_the_pages_to_index(index, website):
    base = website.rsplit("/", 1)[0]
    summary = ingest(index, f"{base}/sitemap.xml", allow_private=True)
    assert summary.added == 1
    assert dict(summary.skipped) == {f"{base}/private/secret.html": "disallowed by robots.txt"}
    assert search(index, "helm chart", top_k=1)[0].doc_id == f"{base}/install.html"


def test_ingest_command_prints_a_summary_and_lists_collections(tmp_path, corpus):
    data = tmp_path / "cli-data"
    command = [*PIPEKIT, "ingest", str(corpus), "--collection", "docs", "--data-dir", str(data)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "docs: 3 added, 0 updated, 0 unchanged, 0 removed, 0 skipped" in run.stdout
    listed = subprocess.run(
        [*PIPEKIT, "ingest", "--list", "--data-dir", str(data)], capture_output=True, text=True
    )
    assert listed.stdout.startswith("docs\t3 documents")
    missing = subprocess.run(
        [*PIPEKIT, "ingest", str(tmp_path / "nope"), "-c", "docs", "--data-dir", str(data)],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_ingest_into_a_milvus_server_that_is_down_names_it_and_records_nothing(tmp_path, corpus):
    down = RagIndex(tmp_path / "data", StoreConfig(uri="http://127.0.0.1:9"))
    try:
        with pytest.raises(StoreError, match="Milvus server at http://127.0.0.1:9"):
            ingest(down, corpus)
        assert down.catalog.document_hashes("docs") == {}
    finally:
        down.close()


def test_milvus_server_by_uri_takes_ingests_from_two_processes_at_once(
    tmp_path, corpus, milvus_server
):
    data = tmp_path / "data"
    server = StoreConfig(uri=milvus_server, hnsw_m=8, hnsw_ef_construction=64, hnsw_ef=32)
    serving = RagIndex(data, server)
    try:
        assert ingest(serving, corpus).added == 3
        assert search(serving, "run three replicas", top_k=1)[0].doc_id == "scale.md"
        # Unlike a Milvus Lite file, the server is not held by this process: `pipekit ingest`
        # runs beside it, without waiting.
        more = write_corpus(tmp_path / "more", {"drain.md": "# Draining\n\nCordon the node."})
        command = [*PIPEKIT, "ingest", str(more), "-c", "more", "--data-dir", str(data),
                   "--wait", "0", "--embedder", get_local_embedder().model_name,
                   "--index-type", "ivf_flat"]  # fmt: skip
        run = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "MILVUS_URI": milvus_server},
        )
        assert run.returncode == 0, run.stderr
        assert "more: 1 added" in run.stdout
        assert search(serving, "cordon a node", "more", top_k=1)[0].doc_id == "drain.md"
        assert not (data / "rag" / "milvus.db").exists()  # nothing went to a local file
        assert milvus_index(milvus_server, "docs") == ("HNSW", {"M": "8", "efConstruction": "64"})
        assert milvus_index(milvus_server, "more")[0] == "IVF_FLAT"
    finally:
        serving.close()
    reopened = RagIndex(data, server)  # vectors live in the server: nothing is embedded again
    try:
        rerun = ingest(reopened, corpus)
        assert (rerun.unchanged, rerun.chunks_embedded) == (3, 0)
        assert search(reopened, "메모리 한도", top_k=1)[0].doc_id == "ko/oom.md"
    finally:
        reopened.close()


def milvus_index(uri: str, collection: str) -> tuple[str, dict[str, str]]:
    """The index type and build parameters Milvus reports for a pipekit collection."""
    from pymilvus import MilvusClient

    client = MilvusClient(uri=uri)
    try:
        described = client.describe_index(milvus_name(collection), "vector")
    finally:
        client.close()
    params = described.get("params") or described  # nested or flat, by server version
    params = {key: str(params[key]) for key in ("M", "efConstruction") if key in params}
    return described["index_type"], params


def test_index_settings_come_from_the_valve_else_the_environment(monkeypatch):
    monkeypatch.setenv("MILVUS_INDEX_TYPE", "hnsw")
    monkeypatch.setenv("MILVUS_HNSW_M", "32")
    unset = StoreConfig.from_env(index_type="", hnsw_m=0, hnsw_ef_construction=0, hnsw_ef=0)
    assert (unset.index_type, unset.hnsw_m, unset.hnsw_ef_construction) == ("HNSW", 32, 200)
    assert StoreConfig.from_env(hnsw_m=8, index_type="FLAT").hnsw_m == 8
    monkeypatch.setenv("MILVUS_HNSW_M", "lots")
    with pytest.raises(ValueError, match="MILVUS_HNSW_M must be a whole number, not 'lots'"):
        StoreConfig.from_env()
    with pytest.raises(ValueError, match="Unknown Milvus index type 'DISKANN': use HNSW"):
        StoreConfig(index_type="DISKANN")


def test_ingest_refuses_an_index_type_it_cannot_build(tmp_path, corpus):
    command = [*PIPEKIT, "ingest", str(corpus), "-c", "docs", "--data-dir", str(tmp_path),
               "--index-type", "diskann"]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "invalid choice: 'DISKANN'" in run.stderr
    assert "HNSW" in run.stderr and not (tmp_path / "rag").exists()


def test_milvus_lite_file_held_by_another_process_gives_a_clear_error(tmp_path, corpus):
    data = tmp_path / "shared"
    holder = RagIndex(data)
    ingest(holder, corpus)  # this process now holds the Milvus Lite file open
    try:
        run = subprocess.run(
            [
                *PIPEKIT,
                "ingest",
                str(corpus),
                "-c",
                "other",
                "--data-dir",
                str(data),
                "--wait",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 2
        assert "in use by another process" in run.stderr
    finally:
        holder.close()
