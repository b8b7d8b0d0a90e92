"""The semantic tier of the injection detector: a linear classifier over sentence meaning.

The patterns and the n-gram classifier read phrasing; an attack worded in a way they never
saw (everyday Korean, a new pretext) passes them. This tier embeds the text with the offline
multilingual Universal Sentence Encoder (`pipekit.embeddings.UseEmbedder`, 16 languages, the
model RAG already ships) and scores the vector with a logistic regression trained offline on
attack families and their benign look-alikes (`bench/guard/train_semantic_model.py`; weights
in `semantic_model.npz`). Meaning carries across languages, so it also catches languages it
was trained on sparsely.

An embedding costs about 1 ms per 20 words, so a long text is not embedded whole: it is cut
into windows and only the few the n-gram classifier finds most suspicious are embedded.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).with_name("semantic_model.npz")
# Texts up to this long are embedded whole; longer ones in windows of about WINDOW_CHARS.
WINDOW_CHARS = 300
# Windows embedded per text: the cost of the tier is bounded whatever the length.
MAX_WINDOWS = 1
_BREAKS = re.compile(r"(?<=[.!?。\n])\s+|\n")


@dataclass(frozen=True)
class SemanticModel:
    """Logistic regression over unit-length sentence vectors: logit = v·w + b."""

    weights: np.ndarray
    bias: float
    encoder: str  # the embedder the weights were trained on

    def logits(self, vectors: np.ndarray) -> np.ndarray:
        return vectors @ self.weights + self.bias

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float32),
            bias=np.float64(self.bias),
            encoder=np.str_(self.encoder),
        )

    @classmethod
    def load(cls, path: Path) -> SemanticModel:
        with np.load(path) as data:
            return cls(
                data["weights"].astype(np.float32), float(data["bias"]), str(data["encoder"])
            )


def windows(text: str, size: int = WINDOW_CHARS) -> list[str]:
    """`text` whole if short, else consecutive pieces of about `size` characters cut at line
    or sentence ends (an instruction hidden in a document is usually one or two sentences)."""
    if len(text) <= size * 3 // 2:
        return [text]
    pieces: list[str] = []
    current = ""
    for sentence in _BREAKS.split(text):
        while len(sentence) > size:  # one huge "sentence" (minified HTML, a log line)
            pieces += [current] if current else []
            current = ""
            pieces.append(sentence[:size])
            sentence = sentence[size:]
        if current and len(current) + len(sentence) > size:
            pieces.append(current)
            current = ""
        current = f"{current} {sentence}" if current else sentence
    if current.strip():
        pieces.append(current)
    return [piece for piece in pieces if piece.strip()]


def pick_windows(text: str, suspicion: Callable[[str], float] | None) -> list[str]:
    """The windows worth embedding: all of a short text, else the MAX_WINDOWS most suspicious."""
    pieces = windows(text)
    if len(pieces) <= MAX_WINDOWS or suspicion is None:
        return pieces[:MAX_WINDOWS]
    return sorted(pieces, key=suspicion, reverse=True)[:MAX_WINDOWS]


@lru_cache(maxsize=1)
def load_model() -> SemanticModel | None:
    try:
        return SemanticModel.load(MODEL_PATH)
    except (OSError, KeyError, ValueError) as error:
        log.error("semantic injection model not loaded from %s: %s", MODEL_PATH, error)
        return None


def semantic_logit(texts: list[str]) -> float | None:
    """The highest logit over `texts`, or None when the model or the encoder is missing."""
    from pipekit.embeddings import EmbeddingError, UseEmbedder

    model = load_model()
    if model is None or not texts or _ENCODER_MISSING:
        return None
    # A lone surrogate (broken UTF-16 from a client) must not crash the encoder's tokenizer.
    texts = [text.encode("utf-8", "replace").decode("utf-8") for text in texts]
    try:
        vectors = UseEmbedder().embed_array(texts)
    except EmbeddingError as error:
        # A missing optional package: the first tiers go on alone, and the log says so once.
        _ENCODER_MISSING.append(True)
        log.error("semantic injection tier off: %s", error)
        return None
    return float(model.logits(vectors).max())


_ENCODER_MISSING: list[bool] = []
