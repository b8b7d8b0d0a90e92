"""Guardrail detectors: prompt injection (tier 1, no model server) and PII/secrets masking.

    from pipekit.guards import detect_injection, find_pii, mask, restore

Both run in-process in well under a few milliseconds per message and never log message text.
"""

from pipekit.guards.injection import DEFAULT_THRESHOLD, InjectionVerdict, detect_injection
from pipekit.guards.pii import TYPES as PII_TYPES
from pipekit.guards.pii import MaskResult, PiiSpan, find_pii, mask, restore

__all__ = [
    "DEFAULT_THRESHOLD",
    "PII_TYPES",
    "InjectionVerdict",
    "MaskResult",
    "PiiSpan",
    "detect_injection",
    "find_pii",
    "mask",
    "restore",
]
