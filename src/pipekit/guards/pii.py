"""Find, mask and restore personal data and secrets, English and Korean.

Every number type is validated, not just shaped: cards by Luhn and issuer prefix, Korean
resident registration numbers (주민등록번호) by date and checksum, business registration
numbers (사업자등록번호) by checksum, IPs by range. Boundaries are ASCII-only so a value glued
to Korean particles ("010-1234-5678로") is still found, while values inside longer tokens
(pod names with hashes, UUIDs, versions, order numbers) are not.

Resident registration numbers issued since October 2020 no longer carry a valid checksum (the
last digits became random). A checksum-valid number is always reported; a well-formed
YYMMDD(-)GNNNNNN number whose checksum fails is reported only when a keyword such as
"주민등록번호"/"RRN" stands just before it, so date-prefixed order numbers are left alone.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from dataclasses import dataclass, field

TYPES = (
    "EMAIL", "PHONE", "CARD", "KR_RRN", "KR_BRN", "IP_ADDRESS",
    "AWS_KEY", "GITHUB_TOKEN", "SLACK_TOKEN", "BEARER_TOKEN", "SECRET",
)  # fmt: skip


@dataclass(frozen=True)
class PiiSpan:
    start: int
    end: int
    type: str
    text: str


@dataclass
class MaskResult:
    text: str
    mapping: dict[str, str] = field(default_factory=dict)  # placeholder -> original


# ASCII-only boundaries: Hangul next to a value is a particle, not part of the value.
_L = r"(?<![0-9A-Za-z_])"
_R = r"(?![0-9A-Za-z_])"

_EMAIL = re.compile(
    r"(?<![0-9A-Za-z._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![0-9A-Za-z_-])"
)
_PHONE = re.compile(
    "|".join(
        [
            # Korean mobile: 010-1234-5678, 010 1234 5678, 01012345678
            r"(?<![0-9A-Za-z_+.-])01[016789](?:[-. ]?\d{3,4}[-. ]?\d{4})(?![0-9A-Za-z_]|-\d|\.\d)",
            # +82 mobile or landline: +82 10-1234-5678, +82-2-123-4567, +82 (0)10 ...
            r"(?<![0-9A-Za-z_])\+82[-. ]?(?:\(0\)[-. ]?)?(?:1[016789]|2|[3-6][1-5]|70)[-. )]?\d{3,4}[-. ]?\d{4}(?![0-9A-Za-z_]|-\d)",  # noqa: E501
            # Korean landline and 070 with separators: 02-123-4567, (031) 123-4567
            r"(?<![0-9A-Za-z_+.-])(?:\(0(?:2|[3-6][1-5]|70)\)\s?|0(?:2|[3-6][1-5]|70)[-. ])\d{3,4}[-. ]\d{4}(?![0-9A-Za-z_]|-\d|\.\d)",  # noqa: E501
            # other international E.164 numbers, written with or without separators
            r"(?<![0-9A-Za-z_])\+(?!82)[1-9]\d{0,2}(?:[-. ]?\(?\d{1,4}\)?){2,5}(?![0-9A-Za-z_]|-\d)",  # noqa: E501
            # North American numbers with separators: (415) 555-0132, 415-555-0132
            r"(?<![0-9A-Za-z_+.-])(?:\([2-9]\d{2}\)\s?|[2-9]\d{2}[-. ])\d{3}[-. ]\d{4}(?![0-9A-Za-z_]|-\d|\.\d)",  # noqa: E501
        ]
    )
)
_CARD = re.compile(r"(?<![0-9A-Za-z_.-])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z_-]|\.\d)")
_CARD_GROUPS = re.compile(r"\d{4}(?:([ -])\d{4}){3}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5}")
_RRN = re.compile(_L + r"(\d{6})\s?([-–]?)\s?([1-8]\d{6})" + r"(?![0-9A-Za-z_-])")
_BRN = re.compile(_L + r"(\d{3})(-?)(\d{2})\2(\d{5})" + r"(?![0-9A-Za-z_-])")
_IPV4 = re.compile(r"(?<![0-9A-Za-z_.-])(?:\d{1,3}\.){3}\d{1,3}(?![0-9A-Za-z_-]|\.\d)")
_IPV6 = re.compile(
    r"(?<![0-9A-Za-z_:.-])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?![0-9A-Za-z_:-])"
)
_AWS = re.compile(
    r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Za-z0-9])"
)
_GITHUB = re.compile(
    r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])"
)
_SLACK = re.compile(r"(?<![A-Za-z0-9-])xox[baprs]-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])")
_BEARER = re.compile(r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{16,}=*)")
_JWT = re.compile(
    r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[\s\S]{0,10000}?-----END [A-Z ]{0,20}PRIVATE KEY-----"
)
# key=value secrets: the value is the span; the key says what it is.
_ASSIGNED = re.compile(
    r"(?i)(?<![A-Za-z0-9])[\w.-]{0,30}(?:api[_-]?key|apikey|secret|token|passw(?:or)?d|passwd|pwd|"
    r"access[_-]?key|private[_-]?key|client[_-]?secret|credentials?|비밀번호|패스워드)[\w.-]{0,30}"
    r"[\"']?\s{0,3}[:=]\s{0,3}[\"']?([^\s\"',;]{8,200})"
)
_NOT_A_SECRET = re.compile(
    r"(?i)^(?:bearer|basic|none|null|true|false|undefined|changeme|example|placeholder|your[_-].*|"
    r"\*+|x+|<.*>|\$\{?.*|\{\{.*|%\(.*|\[[A-Z_]+_\d+\].*)$"
)

_RRN_CONTEXT = re.compile(r"(?i)(?:주민|외국인\s*등록|\brrn\b|resident\s+registration)")
_BRN_CONTEXT = re.compile(r"(?i)(?:사업자|business\s+registration|\bbrn\b)")
_ORDER_CONTEXT = re.compile(
    r"(?i)(?:order|invoice|tracking|trace|request|ticket|transaction|txn|주문|송장|운송장|접수|거래)"
    r"[^\n]{0,6}(?:no\.?|number|id|#|번호)?\s*[:#]?\s*$"
)
_VERSION_CONTEXT = re.compile(r"(?i)(?:\bv|version\s*|\bver\.?\s*|버전\s*)$")

# Higher wins when candidates overlap (e.g. a bearer token that is also a JWT).
_PRIORITY = {
    "SECRET_KEY_BLOCK": 10, "AWS_KEY": 9, "GITHUB_TOKEN": 9, "SLACK_TOKEN": 9, "BEARER_TOKEN": 8,
    "SECRET": 7, "EMAIL": 6, "CARD": 5, "KR_RRN": 5, "KR_BRN": 4, "PHONE": 3, "IP_ADDRESS": 2,
}  # fmt: skip
_PLACEHOLDER = re.compile(r"\[([A-Z][A-Z_]*_\d+)\]")


def find_pii(text: str, types: set[str] | list[str] | None = None) -> list[PiiSpan]:
    """Spans of personal data and secrets in `text`, sorted by position, never overlapping."""
    if not text:
        return []
    candidates: list[tuple[int, int, str]] = []
    candidates += _secrets(text)
    candidates += [(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text)]
    candidates += _cards(text)
    candidates += _rrns(text)
    candidates += _brns(text)
    candidates += _phones(text)
    candidates += _ips(text)
    wanted = set(types) if types is not None else None
    chosen: list[tuple[int, int, str]] = []
    # Chosen spans never overlap, so sorted by start they are sorted by end too: a candidate
    # overlaps one of them only if the last span starting before its end reaches past its start.
    starts: list[int] = []
    ends: list[int] = []
    for start, end, kind in sorted(candidates, key=lambda c: (-_PRIORITY[c[2]], c[0] - c[1])):
        before_end = bisect.bisect_left(starts, end)
        if before_end and ends[before_end - 1] > start:
            continue
        position = bisect.bisect_left(starts, start)
        starts.insert(position, start)
        ends.insert(position, end)
        chosen.append((start, end, kind))
    spans = []
    for start, end, kind in sorted(chosen):
        kind = "SECRET" if kind == "SECRET_KEY_BLOCK" else kind
        if wanted is None or kind in wanted:
            spans.append(PiiSpan(start, end, kind, text[start:end]))
    return spans


def mask(
    text: str, types: set[str] | list[str] | None = None, mapping: dict[str, str] | None = None
) -> MaskResult:
    """Replace each found value with a placeholder like `[EMAIL_1]`.

    The same value always gets the same placeholder. Pass the `mapping` of an earlier call (e.g.
    an earlier message of the same chat) to keep numbering and placeholders consistent.
    """
    mapping = dict(mapping or {})
    by_value = {value: placeholder for placeholder, value in mapping.items()}
    counters: dict[str, int] = {}
    for placeholder in mapping:
        match = _PLACEHOLDER.fullmatch(placeholder)
        if match:
            kind, _, number = match.group(1).rpartition("_")
            counters[kind] = max(counters.get(kind, 0), int(number))
    pieces: list[str] = []
    last = 0
    for span in find_pii(text, types):
        placeholder = by_value.get(span.text)
        if placeholder is None:
            counters[span.type] = counters.get(span.type, 0) + 1
            placeholder = f"[{span.type}_{counters[span.type]}]"
            by_value[span.text] = placeholder
            mapping[placeholder] = span.text
        pieces.append(text[last : span.start])
        pieces.append(placeholder)
        last = span.end
    pieces.append(text[last:])
    return MaskResult("".join(pieces), mapping)


def restore(text: str, mapping: dict[str, str]) -> str:
    """Put the original values back for every placeholder in `mapping`; others stay as written."""
    if not mapping or not text:
        return text
    return _PLACEHOLDER.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)


# --- candidates per type ----------------------------------------------------------------------
def _secrets(text: str) -> list[tuple[int, int, str]]:
    out = [(m.start(), m.end(), "SECRET_KEY_BLOCK") for m in _PRIVATE_KEY.finditer(text)]
    out += [(m.start(), m.end(), "AWS_KEY") for m in _AWS.finditer(text)]
    out += [(m.start(), m.end(), "GITHUB_TOKEN") for m in _GITHUB.finditer(text)]
    out += [(m.start(), m.end(), "SLACK_TOKEN") for m in _SLACK.finditer(text)]
    out += [(m.start(1), m.end(1), "BEARER_TOKEN") for m in _BEARER.finditer(text)]
    out += [(m.start(), m.end(), "SECRET") for m in _JWT.finditer(text)]
    for match in _ASSIGNED.finditer(text):
        value = match.group(1)
        if not _NOT_A_SECRET.match(value):
            out.append((match.start(1), match.end(1), "SECRET"))
    return out


def _cards(text: str) -> list[tuple[int, int, str]]:
    out = []
    for match in _CARD.finditer(text):
        raw = match.group(0)
        digits = re.sub(r"[ -]", "", raw)
        if raw != digits and not _CARD_GROUPS.fullmatch(raw):
            continue  # separators in a shape no card is printed in: a phone, a date run, an id
        if (
            _card_prefix(digits)
            and luhn_valid(digits)
            and not _after(text, match.start(), _ORDER_CONTEXT)
        ):
            out.append((match.start(), match.end(), "CARD"))
    return out


def _card_prefix(digits: str) -> bool:
    n = len(digits)
    two, four = int(digits[:2]), int(digits[:4])
    if digits[0] == "4":
        return n in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return n == 16
    if two in (34, 37):
        return n == 15
    if two in (36, 38) or 300 <= int(digits[:3]) <= 305:
        return n in (14, 16)
    if four == 6011 or two == 65 or 644 <= int(digits[:3]) <= 649 or two == 62:
        return 16 <= n <= 19
    if 3528 <= four <= 3589:
        return 16 <= n <= 19
    if digits[0] == "9":  # Korean domestic-only cards
        return n == 16
    return False


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of card numbers."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _rrns(text: str) -> list[tuple[int, int, str]]:
    out = []
    for match in _RRN.finditer(text):
        birth, _, rest = match.groups()
        digits = birth + rest
        if not _valid_birth(birth, rest[0]):
            continue
        if _rrn_checksum(digits) or _after(text, match.start(), _RRN_CONTEXT, 30):
            out.append((match.start(), match.end(), "KR_RRN"))
    return out


def _valid_birth(birth: str, gender: str) -> bool:
    month, day = int(birth[2:4]), int(birth[4:6])
    days = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    return 1 <= month <= 12 and 1 <= day <= days[month - 1] and gender in "12345678"


def _rrn_checksum(digits: str) -> bool:
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    total = sum(int(d) * w for d, w in zip(digits[:12], weights, strict=True))
    return (11 - total % 11) % 10 == int(digits[12])


def _brns(text: str) -> list[tuple[int, int, str]]:
    out = []
    for match in _BRN.finditer(text):
        a, dash, b, c = match.groups()
        digits = a + b + c
        if not _brn_checksum(digits):
            continue
        # Ten bare digits pass the checksum one time in ten: ask for a keyword then.
        if dash or _after(text, match.start(), _BRN_CONTEXT, 30):
            out.append((match.start(), match.end(), "KR_BRN"))
    return out


def _brn_checksum(digits: str) -> bool:
    weights = (1, 3, 7, 1, 3, 7, 1, 3, 5)
    total = sum(int(d) * w for d, w in zip(digits[:9], weights, strict=True))
    total += int(digits[8]) * 5 // 10
    return (10 - total % 10) % 10 == int(digits[9])


def _phones(text: str) -> list[tuple[int, int, str]]:
    out = []
    for match in _PHONE.finditer(text):
        value = match.group(0).rstrip(" .-")
        digits = re.sub(r"\D", "", value)
        if not 8 <= len(digits) <= 15:
            continue
        if value[0] != "+" and _after(text, match.start(), _ORDER_CONTEXT):
            continue
        out.append((match.start(), match.start() + len(value), "PHONE"))
    return out


def _ips(text: str) -> list[tuple[int, int, str]]:
    out = []
    for match in _IPV4.finditer(text):
        value = match.group(0)
        octets = value.split(".")
        if any(int(o) > 255 or (len(o) > 1 and o[0] == "0") for o in octets):
            continue
        if _after(text, match.start(), _VERSION_CONTEXT, 12):
            continue
        # Loopback, "any", broadcast and netmasks identify nobody.
        if octets[0] in ("0", "127", "255"):
            continue
        out.append((match.start(), match.end(), "IP_ADDRESS"))
    for match in _IPV6.finditer(text):
        value = match.group(0)
        if value.count(":") < 2 or ("::" not in value and value.count(":") != 7):
            continue
        try:
            address = ipaddress.IPv6Address(value)
        except ValueError:
            continue
        if address.is_loopback or address.is_unspecified:
            continue
        out.append((match.start(), match.end(), "IP_ADDRESS"))
    return out


def _after(text: str, start: int, context: re.Pattern[str], window: int = 24) -> bool:
    """Does `context` match the text just before `start` (within `window` characters)?"""
    return bool(context.search(text[max(0, start - window) : start]))
