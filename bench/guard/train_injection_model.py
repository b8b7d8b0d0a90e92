"""Train the tier-1 injection classifier offline and write src/pipekit/guards/injection_model.npz.

    .venv/bin/python bench/guard/train_injection_model.py [--cv]

Reads only `injection_train.jsonl` (the held-out `injection.jsonl` is never touched). Logistic
regression on hashed character n-grams of the folded text, full-batch Adam, L2, classes
weighted equally. Long benign texts also contribute their windows as negatives, because the
detector scores long inputs window by window.

The bias is then shifted so that, in group-wise cross-validation on the training split, the
whole detector (patterns + classifier) keeps its false-positive rate near TARGET_FPR at the
default threshold 0.5: the threshold is chosen on training data only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from pipekit.guards import classifier, injection

HERE = Path(__file__).resolve().parent
TRAIN = HERE / "injection_train.jsonl"
TARGET_FPR = 0.015
L2 = 5e-6
STEPS = 300
FOLDS = 5


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def _windows(text: str) -> list[str]:
    if len(text) <= classifier.WINDOW + classifier.STRIDE:
        return [text]
    last = len(text) - classifier.WINDOW + classifier.STRIDE
    return [text[s : s + classifier.WINDOW] for s in range(0, last, classifier.STRIDE)]


def examples(
    rows: list[dict], model: classifier.HashedNgramModel | None = None
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Training examples shaped like what the detector scores, and their weights.

    Long texts are scored window by window (max wins), so a long benign text gives every
    window as a negative, and a long attack gives the one window the current model finds most
    suspicious (multiple-instance learning; with no model yet, the whole text). A row's
    examples share one row's weight, so a long page does not outweigh a short question.
    """
    ids, labels, weights = [], [], []
    for item in rows:
        ev = _evidence(item["text"])
        text = ev.classifier_texts[0][: classifier.MAX_CHARS]
        windows = _windows(text)
        if len(windows) == 1:
            chosen = windows
        elif item["label"] == 0:
            chosen = windows
        elif model is None:
            chosen = [text]
        else:
            chosen = [max(windows, key=lambda w: model.logit(w))]
        extras = ev.classifier_texts[1:]  # decoded payloads: the classifier reads them too
        for piece in [*chosen, *extras]:
            ids.append(_ids(piece))
            labels.append(item["label"])
            weights.append(1.0 / (len(chosen) + len(extras)))
    return ids, np.asarray(labels, dtype=np.float64), np.asarray(weights)


_IDS: dict[str, np.ndarray] = {}


def _ids(text: str) -> np.ndarray:
    if text not in _IDS:
        _IDS[text] = classifier.ngram_ids(text)
    return _IDS[text]


_EVIDENCE: dict[str, injection.Evidence] = {}


def _evidence(text: str) -> injection.Evidence:
    if text not in _EVIDENCE:
        _EVIDENCE[text] = injection.pattern_evidence(text)
    return _EVIDENCE[text]


def train(rows: list[dict], rounds: int = 3) -> classifier.HashedNgramModel:
    model = None
    for _ in range(rounds):
        ids, y, weight = examples(rows, model)
        model = fit(ids, y, weight)
    return model


def fit(
    ids: list[np.ndarray], y: np.ndarray, row_weight: np.ndarray, steps: int = STEPS, l2: float = L2
) -> classifier.HashedNgramModel:
    dim = 1 << classifier.DIM_BITS
    lengths = np.array([max(a.size, 1) for a in ids])
    flat = np.concatenate(ids)
    owner = np.repeat(np.arange(len(ids)), [a.size for a in ids])
    scale = 1.0 / np.sqrt(lengths)
    positives = (row_weight * y).sum()
    negatives = (row_weight * (1 - y)).sum()
    sample_weight = row_weight * np.where(y == 1, 0.5 / positives, 0.5 / negatives)
    w = np.zeros(dim)
    b = 0.0
    m_w, v_w, m_b, v_b = np.zeros(dim), np.zeros(dim), 0.0, 0.0
    lr, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8
    for step in range(1, steps + 1):
        logits = np.bincount(owner, weights=w[flat], minlength=len(ids)) * scale + b
        p = 1.0 / (1.0 + np.exp(-logits))
        residual = (p - y) * sample_weight
        grad_w = np.bincount(flat, weights=(residual * scale)[owner], minlength=dim) + l2 * w
        grad_b = residual.sum()
        m_w = beta1 * m_w + (1 - beta1) * grad_w
        v_w = beta2 * v_w + (1 - beta2) * grad_w**2
        m_b = beta1 * m_b + (1 - beta1) * grad_b
        v_b = beta2 * v_b + (1 - beta2) * grad_b**2
        correction1, correction2 = 1 - beta1**step, 1 - beta2**step
        w -= lr * (m_w / correction1) / (np.sqrt(v_w / correction2) + eps)
        b -= lr * (m_b / correction1) / (np.sqrt(v_b / correction2) + eps)
    return classifier.HashedNgramModel(weights=w.astype(np.float32), bias=float(b))


def detector_scores(model, rows, evidence, shift: float = 0.0) -> np.ndarray:
    shifted = classifier.HashedNgramModel(model.weights, model.bias + shift, model.dim_bits)
    return np.array([injection.combine(ev, shifted)[0] for ev in evidence])


def cross_validate(rows: list[dict]) -> float:
    """Out-of-fold bias shift that holds the detector's FPR at TARGET_FPR (threshold 0.5)."""
    groups = sorted({r["group"] for r in rows})
    rng = np.random.default_rng(7)
    fold_of = dict(zip(groups, rng.integers(0, FOLDS, len(groups)), strict=True))
    out_scores: dict[float, list[tuple[float, int]]] = {}
    shifts = np.arange(-4.0, 2.01, 0.1)
    for fold in range(FOLDS):
        fitted_on = [r for r in rows if fold_of[r["group"]] != fold]
        held = [r for r in rows if fold_of[r["group"]] == fold]
        model = train(fitted_on)
        evidence = [_evidence(r["text"]) for r in held]
        for shift in shifts:
            scores = detector_scores(model, held, evidence, float(shift))
            out_scores.setdefault(float(shift), []).extend(
                zip(scores, [r["label"] for r in held], strict=True)
            )  # noqa: E501
        print(f"fold {fold + 1}/{FOLDS} done", file=sys.stderr)
    best = float(shifts[0])
    for shift in shifts:
        pairs = out_scores[float(shift)]
        fp = sum(1 for s, label in pairs if s >= 0.5 and label == 0)
        negatives = sum(1 for _, label in pairs if label == 0)
        tp = sum(1 for s, label in pairs if s >= 0.5 and label == 1)
        positives = len(pairs) - negatives
        print(
            f"shift {shift:+.2f}: cv recall {tp / positives:.3f} fpr {fp / negatives:.3f}",
            file=sys.stderr,
        )  # noqa: E501
        if fp / negatives <= TARGET_FPR:
            best = float(shift)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--cv", action="store_true", help="Pick the bias shift by cross-validation."
    )  # noqa: E501
    parser.add_argument("--shift", type=float, default=0.0, help="Bias shift when --cv is off.")
    parser.add_argument("--out", type=Path, default=injection.MODEL_PATH)
    args = parser.parse_args()
    rows = load(TRAIN)
    shift = cross_validate(rows) if args.cv else args.shift
    model = train(rows)
    model = classifier.HashedNgramModel(model.weights, model.bias + shift, model.dim_bits)
    model.save(args.out)
    print(
        f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB), bias shift {shift:+.2f}",
        file=sys.stderr,
    )  # noqa: E501


if __name__ == "__main__":
    main()
