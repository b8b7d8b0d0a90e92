"""`pipekit bench scale`: what a replica costs as a collection grows, with Milvus serving it.

A Milvus gRPC endpoint on 127.0.0.1 (Milvus Lite's server, started here; `--milvus-uri` for a
Milvus cluster) holds one collection, grown to each size in turn by `RagIndex.ingest` with a
cost-free embedder (a unit vector drawn from each text's hash), which times what ingestion
costs besides embedding. At each size a fresh replica process, once ready (Milvus reached, as
/pipekit/ready checks), opens the index and asks: its RSS after the first query, how long that
query took, then hybrid query p50 and p95.

`replicas` (bench/replicas.py): two `pipekit serve` replicas on one PostgreSQL and this Milvus
against one replica, under a mixed load of questions, valve changes, approvals and an ingest:
errors, and the question p95 of two over one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from pipekit.testing.engines import milvus_lite_server

from .replicas import mixed_run

COLLECTION = "scale"
_SECTIONS = 10  # chunks per padding document: one per heading
_WORDS = 60  # words per chunk
_QUERIES = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--chunks",
        default="10000,100000",
        help="Comma-separated collection sizes, smallest first (e.g. 10000,100000,1000000).",
    )
    parser.add_argument(
        "--milvus-uri", default="", help="A Milvus server (default: start Milvus Lite's)."
    )
    parser.add_argument("--queries", type=int, default=_QUERIES, help="Timed queries per size.")
    parser.add_argument(
        "--replica-rounds",
        type=int,
        default=10,
        help="Rounds of the two-replica mixed load (8 questions, a valve change and an "
        "approval each); 0 skips it.",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL for the replicas (default: a throwaway cluster of the local "
        "postgresql package).",
    )


class HashEmbedder:
    """A cost-free embedder: each text's vector is a unit vector drawn from its hash. Named
    after the model it stands in for, so a collection padded with it searches with that one."""

    multilingual = False
    dense_weight = 0.75
    korean_dense_drop = 0.0

    def __init__(self, model_name: str = "bench:hash", dimension: int = 1280) -> None:
        self.model_name, self.dimension = model_name, dimension

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        rows = [self.embed_query(text) for text in texts]
        return np.stack(rows) if rows else np.zeros((0, self.dimension), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(self.dimension, np.float32)
        return vector / np.linalg.norm(vector)


def padding(start: int, count: int, words: list[str], seed: int = 7):
    """Documents of `_SECTIONS` headed sections of `_WORDS` words: one chunk each."""
    from pipekit.rag.sources import SourceDocument

    pick = random.Random(seed + start)
    for number in range(start // _SECTIONS, (start + count) // _SECTIONS):
        text = "\n\n".join(
            f"# Part {part}\n\n{' '.join(pick.choices(words, k=_WORDS))}."
            for part in range(_SECTIONS)
        )
        yield SourceDocument(f"pad/{number:07d}.md", f"Padding {number}", text, "pad")


def pad_collection(index, name: str, target: int, embedder, words: list[str]):
    """Grow a collection to `target` chunks (a multiple of 10) as `pipekit ingest` writes
    them, vectors from `embedder`; the ingest summary."""
    info = index.catalog.collection(name)
    have = index.counts(name)[1] if info else 0
    return index.ingest(
        name, padding(have, target - have, words), embedder, remove_missing=False, wait_s=60
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    from pipekit.rag.index import RagIndex
    from pipekit.rag.store import StoreConfig

    sizes = sorted(int(size) for size in args.chunks.split(","))
    words = _vocabulary()
    embedder = HashEmbedder()
    rows = []
    with tempfile.TemporaryDirectory(prefix="pipekit-bench-scale-") as scratch:
        with _milvus(args.milvus_uri, Path(scratch) / "milvus") as uri:
            data_dir = Path(scratch) / "data"
            for size in sizes:
                index = RagIndex(data_dir, StoreConfig(uri=uri))
                try:
                    started = time.perf_counter()
                    summary = pad_collection(index, COLLECTION, size, embedder, words)
                    ingest_s = time.perf_counter() - started
                    # Milvus Lite builds its BM25 index on the first keyword search after a
                    # change; the server's cost, not the replica's: paid here.
                    started = time.perf_counter()
                    _search(index, "warm up the server", embedder)
                    warm_s = time.perf_counter() - started
                finally:
                    index.close()
                replica = _replica(data_dir, uri, words, args.queries)
                rows.append(
                    {
                        "chunks": size,
                        **replica,
                        "ingest_chunks_per_s": round(summary.chunks_written / ingest_s, 1),
                        "milvus_warm_s": round(warm_s, 2),
                    }
                )
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
            replicas = (
                mixed_run(uri, args.database_url, args.replica_rounds)
                if args.replica_rounds
                else {}
            )
    return {"milvus": args.milvus_uri or "milvus-lite server", "sizes": rows, "replicas": replicas}


def _search(index, query: str, embedder):
    collections = index.readable_collections([COLLECTION], None, None)
    return index.search(collections, query, embedder, top_k=10)


def _replica(data_dir: Path, uri: str, words: list[str], queries: int) -> dict[str, Any]:
    """A fresh process: open the index, first query, then the timed ones."""
    # The words go on stdin: as an argument they pass the kernel's limit (E2BIG).
    completed = subprocess.run(
        [sys.executable, "-c", "from pipekit.bench.scale import replica; replica()",
         str(data_dir), uri, str(queries)],
        input=json.dumps(words), capture_output=True, text=True, timeout=3600, check=False,
    )  # fmt: skip
    if completed.returncode:
        raise RuntimeError(f"replica failed: {completed.stderr[-2000:]}")
    return json.loads(completed.stdout)


def replica() -> None:
    """The replica process: argv data dir, Milvus URI, query count; the words (JSON) on stdin."""
    from pipekit.rag.index import RagIndex
    from pipekit.rag.store import StoreConfig

    data_dir, uri, queries = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    words = json.loads(sys.stdin.read())
    embedder = HashEmbedder()
    pick = random.Random(11)
    questions = [" ".join(pick.choices(words, k=6)) for _ in range(int(queries) + 1)]
    # A replica takes traffic once /pipekit/ready has reached Milvus (loading pymilvus, ~2 s
    # of imports on this machine); the first query is timed from there, as a user meets it.
    os.environ["MILVUS_URI"] = uri
    from pipekit.stores.health import all_reachable, store_states

    if not all_reachable(store_states()):
        raise RuntimeError(f"replica not ready: {store_states()}")
    started = time.perf_counter()
    index = RagIndex(Path(data_dir), StoreConfig(uri=uri))
    _search(index, questions[0], embedder)
    first_s = time.perf_counter() - started
    rss_mb = _rss_mb()
    latencies = []
    for question in questions[1:]:
        started = time.perf_counter()
        _search(index, question, embedder)
        latencies.append((time.perf_counter() - started) * 1000)
    index.close()
    result = {
        "rss_mb_after_first_query": rss_mb,
        "first_query_s": round(first_s, 3),
        "query_ms_p50": round(float(np.percentile(latencies, 50)), 2),
        "query_ms_p95": round(float(np.percentile(latencies, 95)), 2),
    }
    print(json.dumps(result))


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _vocabulary() -> list[str]:
    """English words with a natural spread of frequencies: wordninja's list, most common
    first, each drawn by Zipf's law (a few words in most chunks, most in few)."""
    import gzip

    import wordninja

    path = Path(wordninja.__file__).parent / "wordninja" / "wordninja_words.txt.gz"
    with gzip.open(path, "rt") as lines:
        top = [line.strip() for _, line in zip(range(20000), lines, strict=False)]
    return [word for rank, word in enumerate(top, 1) for _ in range(max(1, 2000 // rank))]


@contextmanager
def _milvus(uri: str, data_dir: Path):
    """The given Milvus, else Milvus Lite's gRPC server on a free port of 127.0.0.1."""
    if uri:
        yield uri
        return
    with milvus_lite_server(data_dir) as started:
        yield started
