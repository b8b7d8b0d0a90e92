# ruff: noqa: E501  (pattern tables read better unwrapped)
"""Find, mask and restore personal data and secrets, English and Korean.

Every number type is validated, not just shaped: cards by Luhn and issuer prefix, Korean
resident registration numbers (주민등록번호) by date and checksum, business registration
numbers (사업자등록번호) by checksum, IPs by range. Boundaries are ASCII-only so a value glued
to Korean particles ("010-1234-5678로") is still found, while values inside longer tokens
(pod names with hashes, UUIDs, versions, order numbers) are not.

Resident registration numbers issued since October 2020 no longer carry a valid checksum (the
last digits became random). A checksum-valid number is always reported; a well-formed
YYMMDD(-)GNNNNNN number whose checksum fails is reported only when a keyword such as
"주민등록번호"/"RRN" stands just before it, so date-prefixed order numbers are left alone. The
same holds for foreigner registration numbers (외국인등록번호, gender digit 5-8: KR_FRN).

Shapes that many other numbers share need a word nearby: a passport or driver's licence
number, a bank account (a bank's name or "계좌"/"account"), a bare nine-digit SSN. Names and
street addresses are found by their context (a title, an honorific, a label such as "성명:",
a street type and house number), never by a bare capitalised word. IP addresses and internal
host names are found too, but the PII filter masks them only when asked (OPT_IN): engineers
paste them to get help with exactly those machines.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from dataclasses import dataclass, field

TYPES = (
    "EMAIL", "PHONE", "CARD", "KR_RRN", "KR_FRN", "KR_BRN", "KR_PASSPORT", "KR_DRIVER_LICENSE",
    "US_SSN", "BANK_ACCOUNT", "PERSON", "ADDRESS", "IP_ADDRESS", "HOSTNAME",
    "AWS_KEY", "GITHUB_TOKEN", "SLACK_TOKEN", "BEARER_TOKEN", "SECRET",
)  # fmt: skip
# Found by find_pii, masked by the filter only when its valve turns them on.
OPT_IN = ("IP_ADDRESS", "HOSTNAME")


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
# Four dotted numbers introduced as a build or version are not an address ("build 1.4.2.7").
_VERSION_CONTEXT = re.compile(
    r"(?i)(?:\bv|\b(?:version|ver\.?|build|release|firmware|kernel|patch|rev(?:ision)?|"
    r"sdk|driver|os|ios|android|chrome|windows)[\s:#]*(?:no\.?|number|번호)?\s*|"
    r"(?:버전|빌드|릴리스|펌웨어|커널|패치)\s*(?:번호)?\s*[:#]?\s*)$"
)
_SSN = re.compile(r"(?<![0-9A-Za-z_-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![0-9A-Za-z_-])")
_SSN_CONTEXT = re.compile(r"(?i)(?:\bssn\b|social\s+security|사회보장)")
_PASSPORT = re.compile(
    r"(?<![0-9A-Za-z_-])[MSRODmsrod](?:\d{8}|\d{3}[A-Za-z]\d{4})(?![0-9A-Za-z_-])"
)
_PASSPORT_CONTEXT = re.compile(r"(?i)(?:여권|passport)")
_REGIONS = "서울|부산|대구|인천|광주|대전|울산|세종|경기|강원|충북|충남|전북|전남|경북|경남|제주"
_DRIVER = re.compile(
    rf"(?<![0-9A-Za-z_-])(?:(?:1[1-9]|2[0-8])-|(?:{_REGIONS})\s?)\d{{2}}-\d{{6}}-\d{{2}}(?![0-9A-Za-z_-])"
    r"|(?<![0-9A-Za-z_-])(?:1[1-9]|2[0-8])\d{10}(?![0-9A-Za-z_-])"
)
_DRIVER_CONTEXT = re.compile(
    r"(?i)(?:운전\s*면허|면허\s*번호|driver'?s?\s+licen[cs]e|licen[cs]e\s+(?:no|number))"
)
_ACCOUNT = re.compile(
    r"(?<![0-9A-Za-z_.-])\d{2,6}(?:[- ]\d{2,7}){1,3}(?![0-9A-Za-z_]|[-.]\d)|(?<![0-9A-Za-z_.-])\d{10,16}(?![0-9A-Za-z_.-])"
)
_BANK_CONTEXT = re.compile(
    r"(?i)(?:은행|계좌|입금|송금|이체|예금주|국민|신한|우리|하나|농협|기업|카카오뱅크|토스뱅크|케이뱅크|"
    r"sc제일|씨티|수협|우체국|새마을금고|신협|\bbank\b|\baccount\s*(?:no\.?|number|#)|\bacct\b|"
    r"\biban\b|\brouting\b|\bkb\b|\bnh\b|\bibk\b)"
)
_HOSTNAME = re.compile(
    r"(?<![0-9A-Za-z_.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:internal|local|lan|corp|intra|intranet|home\.arpa|svc|cluster\.local)(?![0-9A-Za-z_-]|\.[a-z])",
    re.I,
)
# Names: a Korean name is a surname and one or two syllables, next to a title or a label; an
# English one is two or three capitalised words after a title or a label.
_KO_SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부가복태목형피두감음빈동온호범좌팽승간상갈시화견당"
_KO_TITLES = (
    r"님|씨|고객님|고객|사원|주임|대리|과장|차장|부장|팀장|실장|본부장|이사|상무|전무|대표님?|사장님?|"
    r"선생님|교수님?|박사님?|변호사|간호사|기사님|담당자|매니저|책임|선임|수석|원장님?"
)
_KO_LABEL = r"(?:이름|성명|성함|고객명|담당자|작성자|신청인|보호자|수신인?|발신인?|예금주|받는\s*분|보내는\s*분|환자명?|대표자|연락\s*담당)\s*[:：]?\s*"
_KO_NAME = re.compile(rf"(?<![가-힣])([{_KO_SURNAMES}][가-힣]{{1,2}})(?=\s?(?:{_KO_TITLES}))")
_KO_LABELLED_NAME = re.compile(rf"{_KO_LABEL}([{_KO_SURNAMES}][가-힣]{{1,2}})(?![가-힣])")
_EN_NAME = r"[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?(?:\s+[A-Z]\.)?(?:\s+(?:van|von|de|da|del|di|la|le|O')?\s*[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?){1,2}"
_EN_TITLED_NAME = re.compile(
    rf"(?:\b(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Madam)\.?\s+|\b(?:[Nn]ame|[Cc]ustomer|[Cc]ontact|[Pp]atient|[Ee]mployee|[Aa]pplicant|"
    rf"[Aa]ccount holder|[Rr]ecipient|[Ss]ender|[Aa]ttn|[Aa]ssignee|[Rr]eporter|[Oo]wner)\s*[:：]\s*|"
    rf"\b(?:Dear|Hi|Hello|Thanks|Regards|Sincerely|Cheers),?\s+|\b(?:my name is|this is|I am|I'm|named|called|signed by|contact|ask|call|email|cc|from|to|by|with)\s+)({_EN_NAME})(?![A-Za-z])"
)
# A street line: number, name, street type (English); province/city/district and road (Korean).
_STREET_TYPES = (
    r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|"
    r"Ter|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Sq|Trail|Trl|Alley|Plaza"
)
_EN_ADDRESS = re.compile(
    rf"(?<![0-9A-Za-z])\d{{1,6}}[A-Z]?\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+|\d{{1,3}}(?:st|nd|rd|th))(?:\s+[A-Z][a-z]+){{0,3}}\s+(?:{_STREET_TYPES})\.?(?:\s+(?:NE|NW|SE|SW|N|S|E|W)\b\.?)?"
    r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|#)\.?\s*#?\w{1,6})?"
    r"(?:,\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2},\s+[A-Z]{2}(?:\s+\d{5}(?:-\d{4})?)?)?(?![A-Za-z])"
)
_KO_ADDRESS = re.compile(
    r"(?:(?:서울|부산|대구|인천|광주|대전|울산|세종|경기|강원|충청북|충청남|충북|충남|전라북|전라남|전북|전남|경상북|경상남|경북|경남|제주)"
    r"(?:특별시|광역시|특별자치시|특별자치도|도|시)?\s+)?"
    r"(?:[가-힣]{1,6}(?:시|군|구)\s+){1,2}"
    r"(?:[가-힣0-9]{1,10}(?:로|길)\s?\d{1,4}(?:번길\s?\d{1,4})?(?:-\d{1,4})?|[가-힣0-9]{1,8}(?:동|읍|면|리|가)\s?\d{1,5}(?:-\d{1,5})?(?:번지)?)"
    r"(?:,?\s?[가-힣A-Za-z0-9]{0,12}(?:아파트|빌딩|타워|빌라|오피스텔))?(?:,?\s?\d{1,4}동)?(?:,?\s?\d{1,3}층)?(?:\s?\d{1,5}호)?"
)

# Higher wins when candidates overlap (e.g. a bearer token that is also a JWT).
_PRIORITY = {
    "SECRET_KEY_BLOCK": 10, "AWS_KEY": 9, "GITHUB_TOKEN": 9, "SLACK_TOKEN": 9, "BEARER_TOKEN": 8,
    "SECRET": 7, "EMAIL": 6, "CARD": 5, "KR_RRN": 5, "KR_FRN": 5, "KR_DRIVER_LICENSE": 5,
    "KR_PASSPORT": 5, "US_SSN": 5, "KR_BRN": 4, "ADDRESS": 4, "PHONE": 3, "BANK_ACCOUNT": 2,
    "IP_ADDRESS": 2, "HOSTNAME": 2, "PERSON": 1,
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
    candidates += _ids(text)
    candidates += _names(text)
    candidates += _addresses(text)
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
    """Put the original values back for every placeholder in `mapping`; others stay as written.

    Never inside a tool call Open WebUI wrote into the answer (`<details type="tool_calls">`):
    what a tool was called with is a record of what left the chat, and it left masked.
    """
    if not mapping or not text:
        return text
    pieces = []
    last = 0
    for block in _TOOL_CALL_BLOCK.finditer(text):
        pieces.append(_restore_plain(text[last : block.start()], mapping))
        pieces.append(block.group(0))
        last = block.end()
    pieces.append(_restore_plain(text[last:], mapping))
    return "".join(pieces)


_TOOL_CALL_BLOCK = re.compile(r"<details\b[^>]*\btype=\"tool_calls\"[\s\S]*?</details>")


def _restore_plain(text: str, mapping: dict[str, str]) -> str:
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
            kind = "KR_FRN" if rest[0] in "5678" else "KR_RRN"
            out.append((match.start(), match.end(), kind))
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


def _ids(text: str) -> list[tuple[int, int, str]]:
    """SSNs, passports, driver's licences, bank accounts: the shapes that need their word."""
    out = []
    for match in _SSN.finditer(text):
        area, dash, group, serial = match.groups()
        if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
            continue  # never issued
        if dash or _after(text, match.start(), _SSN_CONTEXT, 30):
            out.append((match.start(), match.end(), "US_SSN"))
    for pattern, context, kind in (
        (_PASSPORT, _PASSPORT_CONTEXT, "KR_PASSPORT"),
        (_DRIVER, _DRIVER_CONTEXT, "KR_DRIVER_LICENSE"),
    ):
        for match in pattern.finditer(text):
            dashed = "-" in match.group(0)
            if (kind == "KR_DRIVER_LICENSE" and dashed) or _after(text, match.start(), context, 30):
                out.append((match.start(), match.end(), kind))
    for match in _ACCOUNT.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 10 <= len(digits) <= 16 and _in_sentence_before(text, match.start(), _BANK_CONTEXT):
            out.append((match.start(), match.end(), "BANK_ACCOUNT"))
    out += [(m.start(), m.end(), "HOSTNAME") for m in _HOSTNAME.finditer(text)]
    return out


def _names(text: str) -> list[tuple[int, int, str]]:
    out = [
        (m.start(1), m.end(1), "PERSON")
        for pattern in (_KO_NAME, _KO_LABELLED_NAME)
        for m in pattern.finditer(text)
        if m.group(1) not in _KO_NOT_NAMES
    ]
    for match in _EN_TITLED_NAME.finditer(text):
        words = match.group(1).split()
        if not any(word in _NOT_NAMES for word in words):
            out.append((match.start(1), match.end(1), "PERSON"))
    return out


# Capitalised words that follow "from", "to", "with"... and are not people.
_NOT_NAMES = frozenset(
    "The This That These Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February "
    "March April May June July August September October November December Open Web Slack Jira "
    "Kubernetes Docker Python Google Microsoft Amazon Apple Linux Windows Ubuntu Debian GitHub "
    "GitLab New York San Los Seoul Busan Street Road Avenue Team Support Customer Service Sales "
    "Engineering Security Marketing Finance Legal Ops Admin Dear Hi Hello Thanks Regards".split()
)


# Words that start with a surname's syllable and stand before a title: "우리 팀장님".
_KO_NOT_NAMES = frozenset(
    "우리 저희 여러분 고객 담당 이번 모든 해당 신규 기존 전체 각 부서 본인 상대 이분 그분 저분 "
    "한분 여러 다른 새로 같은 우리팀 김치 이사 사장 전무 상무 대표 선생 교수 박사 기사 간호 변호".split()
)


def _addresses(text: str) -> list[tuple[int, int, str]]:
    out = [(m.start(), m.end(), "ADDRESS") for m in _EN_ADDRESS.finditer(text)]
    out += [(m.start(), m.end(), "ADDRESS") for m in _KO_ADDRESS.finditer(text)]
    return out


def _in_sentence_before(text: str, start: int, context: re.Pattern[str], window: int = 30) -> bool:
    """`_after`, but the word must be in the same sentence ("계좌 확인차 연락드립니다. 회신
    번호 …" is about a phone number)."""
    before = re.split(r"[.!?\n]\s", text[max(0, start - window) : start])[-1]
    return bool(context.search(before))


def _after(text: str, start: int, context: re.Pattern[str], window: int = 24) -> bool:
    """Does `context` match the text just before `start` (within `window` characters)?"""
    return bool(context.search(text[max(0, start - window) : start]))
