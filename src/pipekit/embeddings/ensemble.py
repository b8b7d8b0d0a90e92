"""`local`: several offline models read every text, and a question weighs them by language.

MiniLM and bge-small are English: Korean reaches them mostly as [UNK] tokens. USE reads Korean
well but ranks English passages far worse than the two (Debian FAQ dense recall@5 0.67 against
0.95). So the default, `local`, embeds every text with all three, side by side, and weighs
them per question: an English question is scored by the English pair alone (the mean of their
cosines, exactly as before USE joined), a mostly Korean one by USE alone, an English one with
a few Korean words by both in proportion.
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np

from .base import EnsembleMember
from .runners import in_parallel

_HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")


def hangul_share(text: str) -> float:
    """The share of a text's letters that are Hangul syllables (0 for English, 1 for Korean)."""
    letters = [ch for ch in text if ch.isalpha()]
    return sum(1 for ch in letters if "\uac00" <= ch <= "\ud7a3") / max(len(letters), 1)


class LocalEnsembleEmbedder:
    """Several offline models read every text; one vector holds them all, side by side.

    A text's vector is its members' unit vectors, each scaled by 1/√n: a unit vector. A
    question's vector weighs the members by language (`member_weights`) and is scaled so that
    its dot product with a passage is the weighted mean of the members' cosines; with equal
    weights, the plain mean.
    """

    def __init__(self, members: list[EnsembleMember], dense_weight: float) -> None:
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
        rows = iter(in_parallel([run for i in order for run in runs[i]]))
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
            in_parallel(
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

    def _readable_by(self, member: EnsembleMember, text: str) -> str:
        """An English model gets a mixed question ("Debian GNU/Linux은 무엇인가요?") without
        its Hangul when a multilingual member reads that: the English models read Hangul as
        long runs of jamo, which only slow them (30-50 ms a question) and add noise (on the
        Korean sets' mixed questions, MRR 0.65 → 0.70 without them)."""
        if not self.multilingual or member.multilingual:
            return text
        return _HANGUL_RUN.sub(" ", text)
