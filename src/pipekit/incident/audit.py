"""The incident agent's audit log: one JSON object per entry, every tool call on record.

Each read, each proposed write, each approval, denial and refused approval is appended to
`<data dir>/incident/audit.jsonl` (or, with PIPEKIT_DATABASE_URL, to the shared database's
`audit_log` table, so every replica writes one log) with who (user, chat), what (server,
tool, arguments),
how it went (outcome, a short result, duration) and when; writes carry their approval code.
Secrets and personal data are masked before anything touches the disk: values under
secret-looking keys are replaced whole, and every string goes through pipekit.guards.pii
(tokens, keys, passwords, emails, phones, cards). Credentials pii does not know are masked
first, keeping the words around them: `Basic <base64>` auth, the password in
`scheme://user:password@host`, and "password is …" / "password: …" / "비밀번호는 …" phrases.
IP addresses are kept: they are evidence.

File appends take a thread lock and an exclusive `flock` on the file, and write each line
with a single `write()` on an O_APPEND descriptor, so concurrent workers never interleave lines.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from pipekit.guards.pii import OPT_IN, TYPES, mask
from pipekit.stores import Database, StoreUnavailable, shared_database
from pipekit.stores.schema import audit_log
from pipekit.tools import Tool, ToolResult

log = logging.getLogger(__name__)

AUDIT_FILE = "audit.jsonl"
RESULT_CHARS = 500
# Masked in the log; IP addresses and host names stay (pod, node and service addresses are
# what an SRE looks for).
MASKED_TYPES = frozenset(TYPES) - set(OPT_IN)
REDACTED = "[REDACTED]"
_SECRET_KEY = re.compile(
    r"(?i)(pass(word|wd)?|pwd|secret|token|api[_-]?key|apikey|private[_-]?key|access[_-]?key|"
    r"credential|authorization|cookie|session[_-]?id)"
)
# Each pattern's `secret` group is masked. After "Authorization: Basic" any value is a secret;
# elsewhere a value after "Basic" only when it is base64 of "user:password".
_BASIC_HEADER = re.compile(
    r"(?i)\bauthorization[\"']?\s*[:=]\s*[\"']?basic\s+(?P<secret>[^\s\"',;]+)"
)
_BASIC = re.compile(r"(?i)\bbasic\s+(?P<secret>[A-Za-z0-9+/]{4,}={0,2})(?![\w+/=])")
_URL_PASSWORD = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:]*:(?P<secret>[^\s/?#]+)@")
# A password ends before spaces, quotes, Hangul (a particle: "hunter2입니다") or a closing
# full stop or parenthesis.
_PASSWORD_VALUE = r"[\"'`]?(?P<secret>[^\s\"'`,;가-힣]+?)(?=[.)]*(?:[\s\"'`,;가-힣]|$))"
_PASSWORD_PHRASE = re.compile(
    r"(?i)(?<![A-Za-z0-9])(?:password|passwd|passphrase)[\"']?"
    r"(?:\s*[:=]\s*|\s+(?:is|was)\s+(?:now\s+)?)" + _PASSWORD_VALUE
)
_PASSWORD_PHRASE_KO = re.compile(
    r"(?:비밀번호|패스워드|암호)\s*(?:[:=]|[은는이가](?:\s*[:=])?)\s*" + _PASSWORD_VALUE
)
# "password is required", "password: [SECRET_1]" and the like are not passwords.
_NOT_A_PASSWORD = re.compile(
    r"(?i)(?:required|incorrect|invalid|wrong|missing|empty|expired|correct|changed|reset|set|"
    r"not|none|null|too|the|a|an|\*+|x+|<.*>|\$\{?.*|\{\{.*|\[[A-Z_]+(?:_\d+)?\])"
)


def mask_value(value: Any, mapping: dict[str, str] | None = None) -> Any:
    """A copy of `value` (JSON-like data) with secrets and personal data masked."""
    mapping = {} if mapping is None else mapping
    if isinstance(value, str):
        result = mask(_mask_credentials(value, mapping), MASKED_TYPES, mapping)
        mapping.update(result.mapping)
        return result.text
    if isinstance(value, dict):
        return {
            str(key): REDACTED
            if _SECRET_KEY.search(str(key)) and item not in (None, "", False)
            else mask_value(item, mapping)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_value(item, mapping) for item in value]
    return value


class AuditLog:
    """Append-only: the shared database's `audit_log` table, else JSONL at
    `<folder>/audit.jsonl`."""

    def __init__(self, folder: Path, *, database: Database | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / AUDIT_FILE
        self.database = database or shared_database()
        self._lock = threading.Lock()

    def record(
        self,
        *,
        event: str,
        user: str | None,
        chat: str | None,
        server: str,
        tool: str,
        arguments: dict[str, Any],
        outcome: str,
        writes: bool = False,
        result: str = "",
        duration_ms: float | None = None,
        approval_code: str | None = None,
    ) -> dict[str, Any]:
        """Mask and append one entry; returns what was written. Never raises."""
        mapping: dict[str, str] = {}
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "event": event,
            "user": user,
            "chat": chat,
            "server": server,
            "tool": tool,
            "writes": writes,
            "arguments": mask_value(arguments, mapping),
            "outcome": outcome,
            "result": mask_value(_clip(result), mapping),
            "duration_ms": None if duration_ms is None else round(duration_ms, 1),
        }
        if approval_code is not None:
            entry["approval_code"] = approval_code
        encoded = json.dumps(entry, ensure_ascii=False, default=str)
        try:
            if self.database is not None:
                with self.database.transaction() as db:
                    db.execute(insert(audit_log).values(time=entry["time"], entry=encoded))
            else:
                self._append(encoded)
        except (OSError, StoreUnavailable) as error:
            # The agent keeps working; the operator reads why the record is missing.
            log.error("could not append to the audit log: %s", error)
        return entry

    def _append(self, encoded: str) -> None:
        line = (encoded + "\n").encode("utf-8")
        with self._lock:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                os.write(descriptor, line)
            finally:
                os.close(descriptor)  # closing releases the flock

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, oldest first (for tests and `tail`-like tooling)."""
        if self.database is not None:
            with self.database.read() as db:
                rows = db.scalars(select(audit_log.c.entry).order_by(audit_log.c.id)).all()
            return [json.loads(row) for row in rows]
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]

    def audited(self, tool: Tool, *, user: str | None, chat: str | None) -> Tool:
        """The same tool, with every run recorded (outcome, result, duration)."""
        original = tool.run

        def run(**arguments: Any) -> Any:
            started = time.monotonic()
            outcome, summary = "error", ""
            try:
                result = original(**arguments)
                outcome, summary = "ok", _result_text(result)
                return result
            except Exception as error:
                summary = f"{type(error).__name__}: {error}"
                raise
            finally:
                self.record(
                    event="call",
                    user=user,
                    chat=chat,
                    server=tool.server,
                    tool=tool.name,
                    arguments=arguments,
                    outcome=outcome,
                    writes=tool.writes,
                    result=summary,
                    duration_ms=(time.monotonic() - started) * 1000,
                )

        return replace(tool, run=run)


def _mask_credentials(text: str, mapping: dict[str, str]) -> str:
    """`text` with each credential pii.mask misses as a `[SECRET_n]` placeholder, numbered and
    reused as pii.mask numbers its own (and then leaves alone)."""
    for pattern, is_secret in _CREDENTIALS:
        text = pattern.sub(partial(_hide, is_secret=is_secret, mapping=mapping), text)
    return text


def _hide(
    match: re.Match[str], *, is_secret: Callable[[str], bool], mapping: dict[str, str]
) -> str:
    secret = match["secret"]
    if not is_secret(secret):
        return match[0]
    placeholder = next((key for key, value in mapping.items() if value == secret), None)
    if placeholder is None:
        placeholder = f"[SECRET_{sum(key.startswith('[SECRET_') for key in mapping) + 1}]"
        mapping[placeholder] = secret
    start, end = (offset - match.start() for offset in match.span("secret"))
    return match[0][:start] + placeholder + match[0][end:]


def _is_user_password(value: str) -> bool:
    try:
        return b":" in base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False


def _is_password(value: str) -> bool:
    return not _NOT_A_PASSWORD.fullmatch(value)


def _always(value: str) -> bool:
    return True


_CREDENTIALS = (
    (_BASIC_HEADER, _always),
    (_BASIC, _is_user_password),
    (_URL_PASSWORD, _always),
    (_PASSWORD_PHRASE, _is_password),
    (_PASSWORD_PHRASE_KO, _is_password),
)


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= RESULT_CHARS else text[: RESULT_CHARS - 1] + "…"


def _result_text(result: Any) -> str:
    if isinstance(result, ToolResult):
        return result.text
    if isinstance(result, str):
        return result
    return json.dumps(result, ensure_ascii=False, default=str)
