"""A small logistic-regression text classifier over hashed character n-grams.

Hashing keeps the model a fixed-size weight vector (no vocabulary to ship) and the features are
computed with numpy in one pass, so scoring a message costs well under a millisecond. The
weights are trained offline by `bench/guard/train_injection_model.py` and shipped as an .npz.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

NGRAMS = (1, 2, 3, 4, 5)
DIM_BITS = 18
# Long inputs are scored in overlapping windows (the max wins) so a short instruction hidden in
# a long page is not diluted away; short ones are scored whole.
WINDOW = 512
STRIDE = 256
MAX_CHARS = 40_000

_PRIME = np.uint64(0x100000001B3)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SEEDS = {n: np.uint64((n * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) for n in range(1, 9)}


def ngram_ids(text: str, dim_bits: int = DIM_BITS) -> np.ndarray:
    """Hashed ids of every character n-gram of `text` (padded with spaces), stable across runs."""
    # surrogatepass: a lone surrogate (broken UTF-16 from a client) must not crash the guard.
    raw = (" " + text + " ").encode("utf-32-le", "surrogatepass")
    codes = np.frombuffer(raw, dtype="<u4").astype(np.uint64)
    parts = []
    for n in NGRAMS:
        count = codes.size - n + 1
        if count <= 0:
            continue
        h = np.full(count, _SEEDS[n], dtype=np.uint64)
        for k in range(n):
            h = (h ^ codes[k : k + count]) * _PRIME  # wraps mod 2**64 on purpose (FNV-1a)
        h ^= h >> np.uint64(31)
        h *= _MIX
        parts.append(h >> np.uint64(64 - dim_bits))
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(parts).astype(np.int64)


@dataclass(frozen=True)
class HashedNgramModel:
    """Weights over 2**dim_bits hashed n-gram buckets plus a bias; score = sigmoid(logit)."""

    weights: np.ndarray
    bias: float
    dim_bits: int = DIM_BITS

    def logit(self, text: str) -> float:
        text = text[:MAX_CHARS]
        if len(text) <= WINDOW + STRIDE:
            return self._logit(text)
        starts = range(0, len(text) - WINDOW + STRIDE, STRIDE)
        return max(self._logit(text[s : s + WINDOW]) for s in starts)

    def probability(self, text: str) -> float:
        return float(1.0 / (1.0 + np.exp(-self.logit(text))))

    def _logit(self, text: str) -> float:
        ids = ngram_ids(text, self.dim_bits)
        if ids.size == 0:
            return self.bias
        return float(self.weights[ids].sum() / np.sqrt(ids.size) + self.bias)

    def save(self, path: Path) -> None:
        # float16 halves the file; the precision lost is far below the decision margin.
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float16),
            bias=np.float64(self.bias),
            dim_bits=np.int64(self.dim_bits),
        )

    @classmethod
    def load(cls, path: Path) -> HashedNgramModel:
        with np.load(path) as data:
            return cls(
                weights=data["weights"].astype(np.float32),
                bias=float(data["bias"]),
                dim_bits=int(data["dim_bits"]),
            )
