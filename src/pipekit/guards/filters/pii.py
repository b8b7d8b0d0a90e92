"""PII filter: mask personal data and secrets before the model sees them, restore them after.

Inlet: every user and assistant message of the conversation is masked (history included:
Open WebUI keeps and resends the original text), with one placeholder table per user and
chat, so `[EMAIL_1]` means the same value all through a chat. Outlet: values in the answer
that the user never sent are leaks and are masked; then, if the restore valve is on, the
user's own placeholders are put back, for that same user and chat only.

Open WebUI streams the answer before the outlet runs; the outlet's text then replaces it in
the chat (and in the saved history).

The tables are kept in Redis when one is set (PIPEKIT_REDIS_URL / REDIS_URL), so an outlet on
another replica restores them too; else in this process's memory. Either way they are
bounded in age (and, in memory, in chats and values). Without Redis, an outlet that lands on
another replica finds no table: the placeholders stay masked.
"""

from __future__ import annotations

import logging
import re
from collections import Counter

from pydantic import Field

from pipekit.filter import last_message, replace_text
from pipekit.guards import metrics
from pipekit.guards.filters.base import GuardFilter
from pipekit.guards.filters.context import chat_key, rewrite_answer, user_key
from pipekit.guards.pii import MaskResult, mask, restore
from pipekit.llm import text_of
from pipekit.stores import SharedMap

log = logging.getLogger(__name__)

NAME = "pii"
# Valve -> detector types it switches.
TYPE_VALVES: dict[str, tuple[str, ...]] = {
    "mask_email": ("EMAIL",),
    "mask_phone": ("PHONE",),
    "mask_card": ("CARD",),
    "mask_kr_rrn": ("KR_RRN", "KR_FRN"),
    "mask_kr_brn": ("KR_BRN",),
    "mask_kr_passport": ("KR_PASSPORT",),
    "mask_kr_driver_license": ("KR_DRIVER_LICENSE",),
    "mask_us_ssn": ("US_SSN",),
    "mask_bank_account": ("BANK_ACCOUNT",),
    "mask_person": ("PERSON",),
    "mask_address": ("ADDRESS",),
    "mask_ip_address": ("IP_ADDRESS",),
    "mask_hostname": ("HOSTNAME",),
    "mask_secrets": ("AWS_KEY", "GITHUB_TOKEN", "SLACK_TOKEN", "BEARER_TOKEN", "SECRET"),
}
MAX_VALUES_PER_CHAT = 2_000
# find_pii compares each hit with every earlier one, so a pasted 1 MB customer list would
# take seconds; masking it in pieces of this size keeps that cost linear.
CHUNK_CHARS = 20_000
_PLACEHOLDER_TYPE = re.compile(r"\[([A-Z][A-Z_]*)_\d+\]")


class PiiFilter(GuardFilter):
    class Valves(GuardFilter.Valves):
        priority: int = Field(
            10,
            description="Filters run in ascending priority order; 10 masks after the other "
            "guards have read the message.",
        )
        mask_email: bool = Field(True, description="Mask email addresses.")
        mask_phone: bool = Field(
            True, description="Mask phone numbers (international, Korean 010 and landlines)."
        )
        mask_card: bool = Field(True, description="Mask card numbers (Luhn-checked).")
        mask_kr_rrn: bool = Field(
            True,
            description="Mask Korean resident and foreigner registration numbers "
            "(주민등록번호, 외국인등록번호).",
        )
        mask_kr_brn: bool = Field(
            True, description="Mask Korean business registration numbers (사업자등록번호)."
        )
        mask_kr_passport: bool = Field(
            True, description="Mask Korean passport numbers (next to 여권/passport)."
        )
        mask_kr_driver_license: bool = Field(
            True, description="Mask Korean driver's licence numbers (운전면허번호)."
        )
        mask_us_ssn: bool = Field(
            True, description="Mask US Social Security numbers (never-issued ranges excluded)."
        )
        mask_bank_account: bool = Field(
            True, description="Mask bank account numbers written next to a bank or 계좌."
        )
        mask_person: bool = Field(
            True,
            description="Mask people's names (Korean and English) next to a title, honorific "
            "or label (김민수 님, Mr. Smith, 성명:).",
        )
        mask_address: bool = Field(
            True, description="Mask street addresses (Korean road and lot addresses, English)."
        )
        mask_ip_address: bool = Field(
            False,
            description="Mask IPv4 and IPv6 addresses. Off by default: engineers paste them to "
            "get help with those machines.",
        )
        mask_hostname: bool = Field(
            False,
            description="Mask internal host names (*.internal, *.local, *.corp, "
            "*.svc.cluster.local). Off by default, like IP addresses.",
        )
        mask_secrets: bool = Field(
            True,
            description="Mask secrets: AWS keys, GitHub tokens, Slack xox tokens, bearer "
            "tokens, private keys.",
        )
        restore_in_answer: bool = Field(
            True,
            description="On: placeholders in the answer are replaced by the user's own values "
            "again (same user and chat only). Off: the answer keeps [EMAIL_1]-style "
            "placeholders.",
        )
        mask_leaks_in_answer: bool = Field(
            True,
            description="Mask values in the answer that the user did not send (e.g. from "
            "documents or tools).",
        )
        max_chats: int = Field(
            1000, ge=1, le=1_000_000, description="Chats whose placeholder tables are kept."
        )
        forget_after_minutes: int = Field(
            240,
            ge=1,
            le=10080,
            description="A chat's placeholder table is dropped after this long without use.",
        )

    def __init__(self) -> None:
        super().__init__()
        # Placeholder -> value, per user and chat.
        self.tables: SharedMap[dict[str, str]] = SharedMap("pii", 1000, 240 * 60.0)

    def types(self) -> set[str]:
        on = [kinds for valve, kinds in TYPE_VALVES.items() if getattr(self.valves, valve)]
        return {kind for kinds in on for kind in kinds}

    def check_inlet(self, body: dict, user: dict) -> dict:
        types = self.types()
        messages = body.get("messages")
        if not types or not isinstance(messages, list):
            return body
        key = chat_key(body, user)
        table = self._table(key)
        found: Counter[str] = Counter()
        for message in messages:
            if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
                continue
            text = text_of(message)
            result = mask_in_chunks(text, types, table)
            table = result.mapping
            if result.text != text:
                found.update(placeholder_types(result.text))
                replace_text(message, result.text)
        # A huge table is not kept: its chat keeps the last one, later values stay masked.
        if key and len(table) <= MAX_VALUES_PER_CHAT:
            self.tables.put(key, table)
        if found:
            metrics.record_guard_action(NAME, "masked")
            log.info("pii masked %s user=%s", _summary(found), user_key(body, user))
        return body

    def check_outlet(self, body: dict, user: dict) -> dict:
        answer = last_message(body, "assistant")
        if answer is None:
            return body
        key = chat_key(body, user)
        table = self._table(key)
        types = self.types() if self.valves.mask_leaks_in_answer else set()
        leaked: set[str] = set()

        def clean(text: str) -> str:
            if types and text:
                # The user's own values get their placeholders back; new ones are leaks and
                # become [EMAIL_REDACTED]: no number, so no restore and no clash later.
                result = mask_in_chunks(text, types, table)
                text = result.text
                for placeholder in set(result.mapping) - set(table):
                    kind = placeholder_types(placeholder)[0]
                    leaked.add(kind)
                    text = text.replace(placeholder, f"[{kind}_REDACTED]")
            if self.valves.restore_in_answer and table:
                text = restore(text, table)
            return text

        rewrite_answer(answer, clean)
        if leaked:
            metrics.record_guard_action(NAME, "leak_masked")
            log.warning(
                "pii leak masked in answer types=%s user=%s",
                ",".join(sorted(leaked)),
                user_key(body, user),
            )
        return body

    def _table(self, key: str | None) -> dict[str, str]:
        self.tables.max_entries = self.valves.max_chats
        self.tables.max_age_s = self.valves.forget_after_minutes * 60.0
        return dict(self.tables.get(key) or {}) if key else {}


def mask_in_chunks(text: str, types: set[str], table: dict[str, str]) -> MaskResult:
    """`mask` with the chat's table, in pieces when the text is long (same placeholders)."""
    if len(text) <= CHUNK_CHARS:
        return mask(text, types, table)
    pieces = []
    for chunk in _chunks(text):
        result = mask(chunk, types, table)
        pieces.append(result.text)
        table = result.mapping
    return MaskResult("".join(pieces), table)


def placeholder_types(text: str) -> list[str]:
    """`EMAIL`, `PHONE`, ... for each placeholder in `text` (for logs and metrics only)."""
    return [match.group(1) for match in _PLACEHOLDER_TYPE.finditer(text)]


def _chunks(text: str) -> list[str]:
    if len(text) <= CHUNK_CHARS:
        return [text]
    chunks = []
    start = 0
    while len(text) - start > CHUNK_CHARS:
        end = start + CHUNK_CHARS
        window = text[end - CHUNK_CHARS // 10 : end]
        # Cut where no value can straddle: a blank line, a line end, a space, else anywhere.
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator)
            if cut >= 0:
                end = end - len(window) + cut + len(separator)
                break
        chunks.append(text[start:end])
        start = end
    chunks.append(text[start:])
    return chunks


def _summary(kinds: Counter[str]) -> str:
    return ",".join(f"{kind}x{count}" for kind, count in sorted(kinds.items()))
