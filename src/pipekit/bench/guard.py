"""`pipekit bench guard`: quality and latency of the guardrail detectors on a JSONL eval set.

    pipekit bench guard --filter injection [--data FILE.jsonl] [--threshold 0.5] [--untrusted]
    pipekit bench guard --filter pii [--data FILE.jsonl] --json

Injection rows: {"text", "label"} (1 = attack). PII rows: {"text", "spans": [{"start", "end",
"type"}]}. An optional "lang" field gives the per-language breakdown (otherwise Hangul in the
text means "ko"), an optional "family" (else "source") the per-family one. Without --data the
shipped held-out set from bench/guard/ is used.

Injection results include a threshold sweep: recall and FPR at each threshold, and the best
recall reachable at 1 % and 3 % false positives with the threshold that gives it, overall and
per language, so an admin can pick the `threshold` valve. `--untrusted` scores every row as
text from a document or tool (`screen_untrusted`: every window read, UNTRUSTED_THRESHOLD).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, Field

from pipekit import settings

SHIPPED = {"injection": "injection.jsonl", "pii": "pii.jsonl"}
_HANGUL = re.compile("[\uac00-\ud7a3]")

log = logging.getLogger(__name__)


SWEEP = [round(0.05 * step, 2) for step in range(1, 20)]
FPR_BUDGETS = (0.01, 0.03)


class InjectionRow(BaseModel):
    text: str
    label: int = Field(ge=0, le=1)
    lang: str | None = None
    family: str | None = None
    source: str | None = None


class GoldSpan(BaseModel):
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    type: str


class PiiRow(BaseModel):
    text: str
    spans: list[GoldSpan] = []
    lang: str | None = None
    family: str | None = None
    source: str | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--filter", choices=sorted(SHIPPED), default="injection",
                        help="Which detector to measure.")  # fmt: skip
    parser.add_argument("--data", type=Path, default=None,
                        help="JSONL eval set (default: the shipped held-out set).")  # fmt: skip
    parser.add_argument("--threshold", type=float, default=None,
                        help="Injection score threshold (default: the detector's).")  # fmt: skip
    parser.add_argument("--untrusted", action="store_true",
                        help="Score rows as document/tool text (screen_untrusted).")  # fmt: skip


def run(args: argparse.Namespace) -> dict:
    path = args.data or shipped_set(args.filter)
    if args.filter == "injection":
        from pipekit.guards.injection import DEFAULT_THRESHOLD, UNTRUSTED_THRESHOLD

        untrusted = getattr(args, "untrusted", False)
        default = UNTRUSTED_THRESHOLD if untrusted else DEFAULT_THRESHOLD
        threshold = default if args.threshold is None else args.threshold
        rows = [InjectionRow.model_validate(r) for r in _read(path)]
        result = bench_injection(rows, threshold, untrusted=untrusted)
    else:
        rows = [PiiRow.model_validate(r) for r in _read(path)]
        result = bench_pii(rows)
    return {"filter": args.filter, "data": str(path), **result}


def shipped_set(kind: str) -> Path:
    """The eval set shipped in bench/guard/ of the source tree (or $PIPEKIT_GUARD_DATA)."""
    name = SHIPPED[kind]
    candidates = []
    if settings.guard_eval_dir():
        candidates.append(Path(settings.guard_eval_dir()) / name)
    candidates.append(Path(__file__).resolve().parents[3] / "bench" / "guard" / name)
    candidates.append(Path.cwd() / "bench" / "guard" / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise SystemExit(
        f"No shipped {kind} eval set found (looked in {', '.join(map(str, candidates))}). "
        "Pass --data FILE.jsonl, or set PIPEKIT_GUARD_DATA to the folder holding it."
    )


def bench_injection(rows: list[InjectionRow], threshold: float, untrusted: bool = False) -> dict:
    from pipekit.guards.injection import detect_injection

    # Warm-up: load both classifiers and the encoder before timing.
    detect_injection("warm-up: please summarise this paragraph for me", untrusted=untrusted)
    latencies: list[float] = []
    scored: list[tuple[float, int, str, str]] = []  # score, label, language, family
    for row in rows:
        started = time.perf_counter()
        verdict = detect_injection(row.text, threshold, untrusted=untrusted)
        latencies.append((time.perf_counter() - started) * 1000)
        family = row.family or row.source or "unlabelled"
        scored.append((verdict.score, row.label, row.lang or _lang(row.text), family))
    by_lang = defaultdict(list)
    by_family = defaultdict(list)
    for item in scored:
        by_lang[item[2]].append(item)
        by_family[item[3]].append(item)
    return {
        "rows": len(rows),
        "threshold": threshold,
        "untrusted": untrusted,
        **_rates(_counts(scored, threshold)),
        **_latency(latencies),
        "per_lang": {
            lang: {
                "rows": len(items),
                **_rates(_counts(items, threshold)),
                "recall_at_fpr": _recall_at_fpr(items),
            }
            for lang, items in sorted(by_lang.items())
        },  # fmt: skip
        "per_family": {
            family: {"rows": len(items), **_rates(_counts(items, threshold))}
            for family, items in sorted(by_family.items())
        },
        "sweep": {
            "recall_at_fpr": _recall_at_fpr(scored),
            "by_threshold": [{"threshold": t, **_short_rates(_counts(scored, t))} for t in SWEEP],
        },
    }


def _counts(scored: list[tuple], threshold: float) -> dict:
    counts = {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
    for score, label, *_ in scored:
        flagged = score >= threshold
        counts[("tp" if label else "fp") if flagged else ("fn" if label else "tn")] += 1
    return counts


def _short_rates(c: dict) -> dict:
    rates = _rates(c)
    return {"recall": rates["recall"], "fpr": rates["fpr"]}


def _recall_at_fpr(scored: list[tuple]) -> dict:
    """For each FPR budget: the lowest threshold whose FPR stays within it, and its recall."""
    benign = sorted((s for s, label, *_ in scored if not label), reverse=True)
    attacks = [s for s, label, *_ in scored if label]
    out = {}
    for budget in FPR_BUDGETS:
        if not benign or not attacks:
            continue
        allowed = int(budget * len(benign))  # false positives within the budget
        # Just above the (allowed+1)-th highest benign score, every benign row below stays clean.
        threshold = benign[allowed] + 1e-4 if allowed < len(benign) else 0.0
        threshold = min(1.0, threshold)
        recall = sum(1 for s in attacks if s >= threshold) / len(attacks)
        out[f"{budget:g}"] = {"threshold": round(threshold, 4), "recall": round(recall, 4)}
    return out


def bench_pii(rows: list[PiiRow]) -> dict:
    from pipekit.guards.pii import TYPES, find_pii

    # A set is scored on the types it labels (an older set that leaves names unlabelled does
    # not count them as false positives); a set of negatives only, on every type.
    labelled = {span.type for row in rows for span in row.spans} or set(TYPES)
    find_pii("warm-up")
    latencies: list[float] = []
    by_lang = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    by_type = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    by_family = defaultdict(lambda: {"rows": 0, "flagged_clean_rows": 0, "tp": 0, "fp": 0, "fn": 0})
    clean_rows = flagged_clean = 0
    for row in rows:
        started = time.perf_counter()
        found = find_pii(row.text, labelled)
        latencies.append((time.perf_counter() - started) * 1000)
        predicted = {(s.start, s.end, s.type) for s in found}
        gold = {(s.start, s.end, s.type) for s in row.spans}
        lang = row.lang or _lang(row.text)
        family = by_family[row.family or row.source or "unlabelled"]
        family["rows"] += 1
        if not gold:
            clean_rows += 1
            flagged_clean += bool(predicted)
            family["flagged_clean_rows"] += bool(predicted)
        for key, bucket in (
            ("tp", predicted & gold),
            ("fp", predicted - gold),
            ("fn", gold - predicted),
        ):
            family[key] += len(bucket)
            for span in bucket:
                by_lang[lang][key] += 1
                by_lang["all"][key] += 1
                by_type[span[2]][key] += 1
    total = by_lang.pop("all", {"tp": 0, "fp": 0, "fn": 0})
    return {
        "rows": len(rows),
        "spans": total["tp"] + total["fn"],
        "types_scored": sorted(labelled),
        **_span_rates(total),
        # A row without PII that got any mask: what users notice as over-masking.
        "fpr": round(flagged_clean / clean_rows, 4) if clean_rows else 0.0,
        "clean_rows": clean_rows,
        **_latency(latencies),
        "per_lang": {k: _span_rates(v) for k, v in sorted(by_lang.items())},
        "per_type": {k: _span_rates(v) for k, v in sorted(by_type.items())},
        "per_family": {
            k: {"rows": v["rows"], "flagged_clean_rows": v["flagged_clean_rows"], **_span_rates(v)}
            for k, v in sorted(by_family.items())
        },
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
