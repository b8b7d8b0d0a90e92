"""Train the semantic injection tier offline and write src/pipekit/guards/semantic_model.npz.

    .venv/bin/python bench/guard/train_semantic_model.py [--cv] [--cross-lingual]

Data: the attack families and benign look-alikes of `families.py` (written for pipekit,
English and Korean) and the public rows of `injection_train.jsonl` (sources and licences in
README.md). The held-out sets (`injection.jsonl`, `heldout/`) are never read.

Each row is read as the detector reads it: the folded view (`injection.pattern_evidence`),
whole when short, else cut into windows; a long benign row gives all its windows as
negatives, a long attack its window the n-gram classifier finds most suspicious (the one
the detector embeds first). Vectors come from the offline USE multilingual encoder; the
model is an L2-regularised logistic regression fitted by Newton's method, rows weighted so
that attacks and benign rows, and the family rows and the public rows, count alike.

`--cv` picks the bias by 5-fold group cross-validation: the highest bias at which this tier
adds, out of fold and at the default threshold, at most ADDED_FPR false positives to those of
the fast tiers. `--cross-lingual` trains once without any Korean row and prints Korean recall.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from pipekit.embeddings import UseEmbedder
from pipekit.guards import injection, semantic

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import families  # noqa: E402  (the data module beside this script)

TRAIN = HERE / "injection_train.jsonl"
# False positives this tier may add, out of fold at the default threshold, to those of the fast
# tiers: on the hand-written look-alikes, and on the public benign rows.
ADDED_FPR = {"family": 0.02, "public": 0.01}
L2 = 1.0
FOLDS = 5
MAX_NEGATIVE_WINDOWS = 8
# Share of the total weight of each kind of row: hand-written family rows, minimal pairs,
# public rows.
SHARES = {"family": 0.35, "pairs": 0.3, "public": 0.35}


def load_rows() -> list[dict]:
    public = [json.loads(line) for line in TRAIN.open(encoding="utf-8")]
    for row in public:
        row.setdefault("family", row["source"])
    return families.rows() + families.pair_rows() + public


def kind(row: dict) -> str:
    source = row["source"]
    return (
        "family"
        if source.startswith("pipekit:family")
        else "pairs"
        if source.startswith("pipekit:pairs")
        else "public"
    )


def examples(rows: list[dict]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Texts to embed, labels, weights and the row each example came from."""
    model = injection._model()
    suspicion = model.logit if model else None
    texts, labels, weights, owners = [], [], [], []
    counts = {name: sum(1 for r in rows if kind(r) == name) for name in SHARES}
    for index, row in enumerate(rows):
        folded = injection.pattern_evidence(row["text"]).classifier_texts[0]
        if row["label"]:
            chosen = semantic.pick_windows(folded, suspicion)[:1]
        else:
            chosen = semantic.windows(folded)[:MAX_NEGATIVE_WINDOWS]
        share = SHARES[kind(row)] / counts[kind(row)]
        for piece in chosen:
            texts.append(piece)
            labels.append(row["label"])
            weights.append(share / len(chosen))
            owners.append(index)
    y = np.asarray(labels, dtype=np.float64)
    w = np.asarray(weights)
    # Attacks and benign examples weigh the same in total.
    w = np.where(y == 1, w * 0.5 / w[y == 1].sum(), w * 0.5 / w[y == 0].sum())
    return texts, y, w * len(y), np.asarray(owners)


_CACHE = Path("/tmp/pipekit-semantic-vectors.npz")


def embed(texts: list[str]) -> np.ndarray:
    """USE vectors of `texts`, cached across runs in /tmp (the encoder is deterministic)."""
    cached: dict[str, np.ndarray] = {}
    if _CACHE.is_file():
        with np.load(_CACHE, allow_pickle=False) as data:
            cached = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
    missing = sorted({t for t in texts if t not in cached})
    if missing:
        print(f"embedding {len(missing)} texts", file=sys.stderr)
        vectors = UseEmbedder().embed_array(missing)
        cached.update(zip(missing, vectors, strict=True))
        keys = list(cached)
        np.savez(_CACHE, texts=np.array(keys), vectors=np.stack([cached[k] for k in keys]))
    return np.stack([cached[t] for t in texts])


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float]:
    """Weighted L2 logistic regression by Newton's method (513 parameters: a few steps)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    theta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(30):
        p = 1.0 / (1.0 + np.exp(-(design @ theta)))
        gradient = design.T @ (w * (p - y)) + penalty * theta
        hessian = (design * (w * p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-6:
            break
    return theta[:-1], float(theta[-1])


def row_logits(owners: np.ndarray, logits: np.ndarray, n_rows: int) -> np.ndarray:
    """Each row's score is its highest window's, as the detector scores it."""
    out = np.full(n_rows, -np.inf)
    np.maximum.at(out, owners, logits)
    return out


def fast_tiers(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """The pattern and n-gram tiers' scores (the detector without this tier), and the weak
    patterns' boost, which the detector adds to this tier's logit too."""
    fast = [injection.detect_injection(r["text"], use_semantic=False).score for r in rows]
    boost = [injection.pattern_evidence(r["text"]).boost for r in rows]
    return np.array(fast), np.array(boost)


def detector_scores(fast_and_boost, logits: np.ndarray, shift: float) -> np.ndarray:
    fast, boost = fast_and_boost
    return np.maximum(fast, 1.0 / (1.0 + np.exp(-(logits + shift + boost))))


def cross_validate(rows, x, y, w, owners) -> tuple[float, np.ndarray]:
    """Out-of-fold row logits, and the bias shift that holds the detector at TARGET_FPR."""
    groups = sorted({r["group"] for r in rows})
    rng = np.random.default_rng(7)
    fold_of = dict(zip(groups, rng.integers(0, FOLDS, len(groups)), strict=True))
    row_fold = np.array([fold_of[r["group"]] for r in rows])
    example_fold = row_fold[owners]
    logits = np.zeros(len(x))
    for fold in range(FOLDS):
        train = example_fold != fold
        weights, bias = fit(x[train], y[train], w[train])
        logits[~train] = x[~train] @ weights + bias
    oof = row_logits(owners, logits, len(rows))
    labels = np.array([r["label"] for r in rows])
    kinds = np.array([kind(r) for r in rows])
    fast = fast_tiers(rows)
    before = fast[0] >= injection.DEFAULT_THRESHOLD
    best = -6.0
    for shift in np.arange(-6.0, 3.01, 0.25):
        flagged = detector_scores(fast, oof, shift) >= injection.DEFAULT_THRESHOLD
        rates = {}
        for name in ADDED_FPR:
            benign = (kinds == name) & (labels == 0)
            recall = flagged[(kinds == name) & (labels == 1)].mean()
            rates[name] = (recall, flagged[benign].mean(), (flagged & ~before)[benign].mean())
        summary = "  ".join(
            f"{name} recall {r:.3f} fpr {f:.4f} (+{a:.4f})" for name, (r, f, a) in rates.items()
        )
        print(f"shift {shift:+.2f}: {summary}", file=sys.stderr)
        if all(rates[name][2] <= limit for name, limit in ADDED_FPR.items()):
            best = float(shift)
    report(rows, detector_scores(fast, oof, best), "cross-validated, chosen shift")
    return best, oof


def report(rows: list[dict], scores: np.ndarray, title: str) -> None:
    """Recall and false-positive rate per language and family, at the default threshold."""
    print(f"--- {title}", file=sys.stderr)
    cells: dict[tuple[str, str], list[int]] = {}
    for row, score in zip(rows, scores, strict=True):
        if kind(row) == "pairs":
            continue  # drawn from templates: their scores say little
        key = (row["lang"], row["family"] if kind(row) == "family" else "public")
        cell = cells.setdefault(key, [0, 0, 0, 0])
        flagged = score >= injection.DEFAULT_THRESHOLD
        cell[0 if row["label"] else 2] += 1
        cell[1 if row["label"] else 3] += int(flagged)
    for (lang, family), (pos, tp, neg, fp) in sorted(cells.items()):
        recall = f"{tp}/{pos}" if pos else "-"
        print(f"  {lang} {family:20s} recall {recall:8s} fp {fp}/{neg}", file=sys.stderr)


def cross_lingual(rows, x, y, w, owners, shift: float) -> dict:
    """Train without any Korean row; score the Korean rows."""
    korean_rows = np.array([r["lang"] == "ko" for r in rows])
    train = ~korean_rows[owners]
    weights, bias = fit(x[train], y[train], w[train])
    logits = row_logits(owners, x @ weights + bias, len(rows))
    fast = fast_tiers(rows)
    scores = detector_scores(fast, logits, shift)
    sem_only = 1.0 / (1.0 + np.exp(-(logits + shift)))
    labels = np.array([r["label"] for r in rows])
    korean = [i for i, r in enumerate(rows) if r["lang"] == "ko" and kind(r) != "pairs"]
    report([rows[i] for i in korean], scores[korean], "trained without Korean: Korean rows")
    attacks = [i for i in korean if labels[i]]
    benign = [i for i in korean if not labels[i]]
    return {
        "korean_attacks": len(attacks),
        "korean_benign": len(benign),
        "recall_semantic_tier_alone": round(float((sem_only[attacks] >= 0.5).mean()), 3),
        "fpr_semantic_tier_alone": round(float((sem_only[benign] >= 0.5).mean()), 3),
        "recall_detector": round(float((scores[attacks] >= 0.5).mean()), 3),
        "fpr_detector": round(float((scores[benign] >= 0.5).mean()), 3),
        "recall_fast_tiers_alone": round(float((fast[0][attacks] >= 0.5).mean()), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cv", action="store_true", help="Pick the bias by cross-validation.")
    parser.add_argument("--shift", type=float, default=0.0, help="Bias shift when --cv is off.")
    parser.add_argument("--cross-lingual", action="store_true",
                        help="Also train without Korean rows; report Korean recall.")  # fmt: skip
    parser.add_argument("--out", type=Path, default=semantic.MODEL_PATH)
    args = parser.parse_args()
    rows = load_rows()
    texts, y, w, owners = examples(rows)
    x = embed(texts)
    shift = cross_validate(rows, x, y, w, owners)[0] if args.cv else args.shift
    if args.cross_lingual:
        print(json.dumps({"cross_lingual": cross_lingual(rows, x, y, w, owners, shift)}))
    weights, bias = fit(x, y, w)
    model = semantic.SemanticModel(weights, bias + shift, UseEmbedder.model_name)
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB), shift {shift:+.2f}",
          file=sys.stderr)  # fmt: skip


if __name__ == "__main__":
    main()
