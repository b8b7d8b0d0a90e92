"""Text normalisation that undoes the usual tricks used to slip an instruction past a filter.

Each function is pure and cheap; `views()` returns every rewritten form a detector should scan.
None of them is meant to be shown to a user: they destroy formatting on purpose.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass

# Zero-width, joiners, bidi controls, soft hyphen, BOM, invisible operators, variation
# selectors: invisible in a chat window, so an attacker can split "ig\u200bnore" with them.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U0001d173-\U0001d17a\U000e0100-\U000e01ef]"
)
# Unicode "tag" characters mirror ASCII one-to-one and render as nothing ("ASCII smuggling").
_TAGS = re.compile("[\U000e0000-\U000e007f]+")
_SPACES = re.compile(r"\s+")

# Cyrillic and Greek letters that render like Latin ones (after casefold, so lower case only).
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
        "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y", "һ": "h", "ӏ": "l", "ɡ": "g",
        "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
        "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ς": "s", "ɑ": "a",
        "ı": "i", "ȷ": "j", "ℓ": "l", "ǀ": "l",
    }
)  # fmt: skip
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"}
)  # fmt: skip
# A token that mixes letters with leet digits/symbols, e.g. "1gn0r3" or "pr3v10us".
_LEET_TOKEN = re.compile(
    r"(?<![\w@$])(?=[\w@$]{0,40}[a-z])(?=[\w@$]{0,40}[0-9@$])[\w@$]{2,40}(?![\w@$])"
)
# "i g n o r e" / "i.g.n.o.r.e" / "i-g-n-o-r-e": runs of single letters split by one separator.
_SPACED = re.compile(r"(?<!\w)(?:\w[ .\-_*/\\]){3,}\w(?!\w)")
_SPACED_SEP = re.compile(r"[ .\-_*/\\]")
_NON_LETTER = re.compile(r"[^a-z\uac00-\ud7a3\u3040-\u30ff\u4e00-\u9fff]+")

# Base64 (standard or url-safe, maybe padded) and long hex runs that could hide a sentence.
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :]?){12,}(?![0-9A-Fa-f])")
_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2}){4,}")
_MAX_DECODED = 8


@dataclass(frozen=True)
class View:
    """One rewritten form of the input: `name` says which trick it undoes."""

    name: str
    text: str


def basic(text: str) -> str:
    """NFKC (full-width, ligatures, maths letters), smuggled tag text shown, invisibles removed,
    case folded, whitespace collapsed."""
    return _collapse(_clean(text))


def fold(text: str) -> str:
    """Look-alike letters mapped to Latin, leetspeak undone inside words, "i g n o r e" joined.

    Takes `_clean` output (whitespace not yet collapsed: a double space between spaced-out
    letters marks a word boundary) or `basic` output.
    """
    text = text.translate(_HOMOGLYPHS)
    text = _LEET_TOKEN.sub(lambda m: m.group(0).translate(_LEET), text)
    return _collapse(_SPACED.sub(lambda m: _SPACED_SEP.sub("", m.group(0)), text))


def _clean(text: str) -> str:
    text = _TAGS.sub(_untag, text)
    text = unicodedata.normalize("NFKC", text)
    return _INVISIBLE.sub("", text).casefold()


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def compact(text: str) -> str:
    """Letters only ("i g-n.o r e" -> "ignore"): catches spacing tricks for fixed phrases."""
    return _NON_LETTER.sub("", text)


def decoded_payloads(text: str) -> list[str]:
    """Text hidden as base64, hex or percent-escapes that decodes to something readable."""
    found: list[str] = []
    for match in _BASE64.finditer(text):
        decoded = _b64(match.group(0))
        if decoded:
            found.append(decoded)
        if len(found) >= _MAX_DECODED:
            return found
    for match in _HEX.finditer(text):
        raw = re.sub(r"[ :]", "", match.group(0))
        try:
            decoded = _readable(bytes.fromhex(raw[: len(raw) // 2 * 2]))
        except ValueError:
            decoded = None
        if decoded:
            found.append(decoded)
    for match in _PERCENT.finditer(text):
        try:
            decoded = _readable(bytes.fromhex(match.group(0).replace("%", "")))
        except ValueError:
            decoded = None
        if decoded:
            found.append(decoded)
    return found[:_MAX_DECODED]


def views(text: str) -> list[View]:
    """Every form worth scanning, original-ish first. Decoded payloads are normalised too."""
    cleaned = _clean(text)
    base = _collapse(cleaned)
    folded = fold(cleaned)
    out = [View("basic", base), View("folded", folded), View("compact", compact(folded))]
    lowered = base
    if "rot13" in lowered or "rot-13" in lowered or "rot 13" in lowered:
        out.append(View("rot13", codecs.decode(folded, "rot13")))
    if "revers" in lowered or "backwards" in lowered or "뒤집" in lowered:
        out.append(View("reversed", folded[::-1]))
    for payload in decoded_payloads(text):
        decoded = fold(_clean(payload))
        out.append(View("decoded", decoded))
    return out


def _untag(match: re.Match[str]) -> str:
    chars = (chr(ord(c) - 0xE0000) for c in match.group(0))
    return " " + "".join(c for c in chars if c.isprintable()) + " "


def _b64(token: str) -> str | None:
    token = token.rstrip("=")
    if len(token) < 16:
        return None
    # Hashes, ids and keys are long runs of one character class; prose in base64 mixes cases.
    if token.isdigit() or token.isalpha() and (token.islower() or token.isupper()):
        return None
    padded = token + "=" * (-len(token) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return _readable(raw)


def _readable(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(text) < 6:
        return None
    printable = sum(1 for c in text if c.isprintable() or c in "\n\t")
    letters = sum(1 for c in text if c.isalpha())
    if printable / len(text) < 0.9 or letters / len(text) < 0.5 or " " not in text.strip():
        return None
    return text
