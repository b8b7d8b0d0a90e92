"""`pipekit bench guard`: quality and latency of the guardrail detectors on a JSONL eval set.

    pipekit bench guard --filter injection [--data FILE.jsonl] [--threshold 0.5] --json
    pipekit bench guard --filter pii [--data FILE.jsonl] --json

Injection rows: {"text", "label"} (1 = attack). PII rows: {"text", "spans": [{"start", "end",
"type"}]}. An optional "lang" field gives the per-language breakdown (otherwise Hangul in the
text means "ko"). Without --data the shipped held-out set from bench/guard/ is used.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import time
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, Field

SHIPPED = {"injection": "injection.jsonl", "pii": "pii.jsonl"}
_HANGUL = re.compile("[\uac00-\ud7a3]")

log = logging.getLogger(__name__)


class InjectionRow(BaseModel):
    text: str
    label: int = Field(ge=0, le=1)
    lang: str | None = None


class GoldSpan(BaseModel):
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    type: str


class PiiRow(BaseModel):
    text: str
    spans: list[GoldSpan] = []
    lang: str | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--filter", choices=sorted(SHIPPED), default="injection",
                        help="Which detector to measure.")  # fmt: skip
    parser.add_argument("--data", type=Path, default=None,
                        help="JSONL eval set (default: the shipped held-out set).")  # fmt: skip
    parser.add_argument("--threshold", type=float, default=None,
                        help="Injection score threshold (default: the detector's).")  # fmt: skip


def run(args: argparse.Namespace) -> dict:
    path = args.data or shipped_set(args.filter)
    if args.filter == "injection":
        from pipekit.guards.injection import DEFAULT_THRESHOLD

        threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
        rows = [InjectionRow.model_validate(r) for r in _read(path)]
        result = bench_injection(rows, threshold)
    else:
        rows = [PiiRow.model_validate(r) for r in _read(path)]
        result = bench_pii(rows)
    return {"filter": args.filter, "data": str(path), **result}


def shipped_set(kind: str) -> Path:
    """The eval set shipped in bench/guard/ of the source tree (or $PIPEKIT_GUARD_DATA)."""
    name = SHIPPED[kind]
    candidates = []
    if os.environ.get("PIPEKIT_GUARD_DATA"):
        candidates.append(Path(os.environ["PIPEKIT_GUARD_DATA"]) / name)
    candidates.append(Path(__file__).resolve().parents[3] / "bench" / "guard" / name)
    candidates.append(Path.cwd() / "bench" / "guard" / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise SystemExit(
        f"No shipped {kind} eval set found (looked in {', '.join(map(str, candidates))}). "
        "Pass --data FILE.jsonl, or set PIPEKIT_GUARD_DATA to the folder holding it."
    )


def bench_injection(rows: list[InjectionRow], threshold: float) -> dict:
    from pipekit.guards.injection import detect_injection

    detect_injection("warm-up: load the classifier before timing")
    latencies: list[float] = []
    counts = defaultdict(lambda: {"tp": 0, "fp": 0, "tn": 0, "fn": 0})
    for row in rows:
        started = time.perf_counter()
        verdict = detect_injection(row.text, threshold)
        latencies.append((time.perf_counter() - started) * 1000)
        outcome = (
            ("tp" if row.label else "fp") if verdict.is_attack else ("fn" if row.label else "tn")
        )  # noqa: E501
        counts["all"][outcome] += 1
        counts[row.lang or _lang(row.text)][outcome] += 1
    total = counts.pop("all")
    return {
        "rows": len(rows),
        "threshold": threshold,
        **_rates(total),
        **_latency(latencies),
        "per_lang": {
            lang: {"rows": sum(c.values()), **_rates(c)} for lang, c in sorted(counts.items())
        },  # noqa: E501
    }


def bench_pii(rows: list[PiiRow]) -> dict:
    from pipekit.guards.pii import find_pii

    find_pii("warm-up")
    latencies: list[float] = []
    by_lang = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    by_type = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    clean_rows = flagged_clean = 0
    for row in rows:
        started = time.perf_counter()
        found = find_pii(row.text)
        latencies.append((time.perf_counter() - started) * 1000)
        predicted = {(s.start, s.end, s.type) for s in found}
        gold = {(s.start, s.end, s.type) for s in row.spans}
        lang = row.lang or _lang(row.text)
        if not gold:
            clean_rows += 1
            flagged_clean += bool(predicted)
        for key, bucket in (
            ("tp", predicted & gold),
            ("fp", predicted - gold),
            ("fn", gold - predicted),
        ):
            for span in bucket:
                by_lang[lang][key] += 1
                by_lang["all"][key] += 1
                by_type[span[2]][key] += 1
    total = by_lang.pop("all", {"tp": 0, "fp": 0, "fn": 0})
    return {
        "rows": len(rows),
        "spans": total["tp"] + total["fn"],
        **_span_rates(total),
        # A row without PII that got any mask: what users notice as over-masking.
        "fpr": round(flagged_clean / clean_rows, 4) if clean_rows else 0.0,
        "clean_rows": clean_rows,
        **_latency(latencies),
        "per_lang": {k: _span_rates(v) for k, v in sorted(by_lang.items())},
        "per_type": {k: _span_rates(v) for k, v in sorted(by_type.items())},
    }


def _rates(c: dict) -> dict:
    tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "fpr": round(fp / (fp + tn), 4) if fp + tn else 0.0,
        "f1": round(f1, 4),
        "tp": tp, "fp": fp, "tn": tn, "fn": fn,
    }  # fmt: skip


def _span_rates(c: dict) -> dict:
    tp, fp, fn = c["tp"], c["fp"], c["fn"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn}  # fmt: skip


def _latency(values: list[float]) -> dict:
    if not values:
        return {"latency_ms_p50": 0.0, "latency_ms_p95": 0.0, "latency_ms_max": 0.0}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {"latency_ms_p50": pick(0.5), "latency_ms_p95": pick(0.95), "latency_ms_max": pick(1.0)}


def _lang(text: str) -> str:
    return "ko" if _HANGUL.search(text) else "other"


def _read(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise SystemExit(f"{path}:{number}: not JSON ({error.msg})") from error
    log.info("bench guard: %d rows from %s", len(rows), path)
    return rows
