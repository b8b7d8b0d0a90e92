"""Every embedder, behind one `Embedder` protocol: the offline models that ship in packages
(local.py), `local`, their ensemble weighed by the question's language (ensemble.py), an
Ollama model (ollama_embedder.py), and the runner pool the offline models share (runners.py).

An embedder is named by a spec: `local`, `local:MODEL` or `ollama:MODEL` (`make_embedder`).
"""

from __future__ import annotations

from pipekit.settings import default_embedder_spec, ollama_base_url

from .base import Embedder, EmbeddingError, EnsembleMember
from .ensemble import LocalEnsembleEmbedder, hangul_share
from .local import BGE_SMALL, MAX_TOKENS, MINILM, LocalEmbedder, LocalModel, UseEmbedder
from .ollama_embedder import OllamaEmbedder, ollama_embedder
from .runners import cpu_limit, usable_cores

__all__ = [
    "DEFAULT_LOCAL_MODEL",
    "MAX_TOKENS",
    "Embedder",
    "EmbeddingError",
    "EnsembleMember",
    "LocalEmbedder",
    "LocalEnsembleEmbedder",
    "LocalModel",
    "OllamaEmbedder",
    "UseEmbedder",
    "cpu_limit",
    "embedder_for",
    "get_local_embedder",
    "hangul_share",
    "local_ensemble",
    "make_embedder",
    "usable_cores",
]

# Constructing one loads nothing, so the singletons can simply exist from import on.
_MINILM = LocalEmbedder(MINILM)
_BGE_SMALL = LocalEmbedder(BGE_SMALL)
_USE_MULTILINGUAL = UseEmbedder()
# The English pair: the default until USE joined; its collections keep working under `local`.
_ENGLISH_PAIR = LocalEnsembleEmbedder([_MINILM, _BGE_SMALL], dense_weight=0.75)
_LOCAL_ENSEMBLE = LocalEnsembleEmbedder([_MINILM, _BGE_SMALL, _USE_MULTILINGUAL], dense_weight=0.75)
_LOCAL: dict[str, Embedder] = {
    e.model_name: e
    for e in (_MINILM, _BGE_SMALL, _USE_MULTILINGUAL, _ENGLISH_PAIR, _LOCAL_ENSEMBLE)
}
DEFAULT_LOCAL_MODEL = _LOCAL_ENSEMBLE.model_name


def get_local_embedder() -> LocalEmbedder:
    """MiniLM alone (~0.3 s to load): the fake Ollama's embeddings, the topic guard's, and
    the fastest offline embedder (`local:all-MiniLM-L6-v2`)."""
    return _MINILM


def local_ensemble() -> LocalEnsembleEmbedder:
    """What the spec `local` means: MiniLM, bge-small and USE multilingual together."""
    return _LOCAL_ENSEMBLE


def make_embedder(spec: str | None, ollama_url: str | None = None) -> Embedder:
    """`local` (the offline ensemble), `local:MODEL` (one of its models, or an ensemble by its
    full name), or `ollama:MODEL`; an empty spec and the Ollama URL fall back to the env."""
    spec = (spec or "").strip() or default_embedder_spec()
    if spec == "local":
        return _LOCAL_ENSEMBLE
    if spec in _LOCAL:
        return _LOCAL[spec]
    if spec.startswith("ollama:") and len(spec) > len("ollama:"):
        return ollama_embedder(spec.split(":", 1)[1], ollama_url or ollama_base_url())
    known = ", ".join(f"`{name}`" for name in _LOCAL)
    raise ValueError(f"Unknown embedder {spec!r}: use `local`, {known} or `ollama:MODEL`.")


def embedder_for(recorded_model: str, requested: Embedder) -> Embedder:
    """The embedder to read or update a collection with.

    `local` follows the offline model a collection was indexed with, so collections indexed
    before the default changed keep working without re-embedding; any other choice must match
    (the catalog says how to fix a mismatch).
    """
    if requested is _LOCAL_ENSEMBLE and recorded_model in _LOCAL:
        return _LOCAL[recorded_model]
    return requested
