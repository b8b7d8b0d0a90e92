"""Guardrail detectors: prompt injection (no model server) and PII/secrets masking.

    from pipekit.guards import detect_injection, screen_untrusted, find_pii, mask, restore

Both run in-process in well under a few milliseconds per message and never log message text.
"""

from pipekit.guards.injection import (
    DEFAULT_THRESHOLD,
    UNTRUSTED_THRESHOLD,
    InjectionVerdict,
    carries_instructions,
    detect_injection,
    screen_untrusted,
)
from pipekit.guards.pii import TYPES as PII_TYPES
from pipekit.guards.pii import MaskResult, PiiSpan, find_pii, mask, restore

__all__ = [
    "DEFAULT_THRESHOLD",
    "PII_TYPES",
    "UNTRUSTED_THRESHOLD",
    "InjectionVerdict",
    "MaskResult",
    "PiiSpan",
    "carries_instructions",
    "detect_injection",
    "find_pii",
    "mask",
    "restore",
    "screen_untrusted",
]
