"""Pending write actions and their one-time approval codes, kept in SQLite.

A write the agent proposes (restart, scale, Slack post) is never run at once: it is stored
with the exact arguments, who asked, in which chat, and when it expires, under a short code.
Only the same user, in the same chat, before it expires, can run it — once. The claim is one
conditional UPDATE, so two `approve` messages racing (two server workers, a double click)
cannot both run it. The database sits in the data dir, so a server restart keeps the codes.

Every code that may not run gets the same refusal, whether it is unknown, expired, used,
denied, another user's or another chat's: the answer never tells a guesser that a code exists
(the audit log keeps the real reason). MAX_WRONG_CODES wrong codes in a chat within LOCKOUT_S
pause `approve` there until the first of them is LOCKOUT_S old (`deny` always works); the
count lives in the same SQLite file, so it holds across server workers. The file is readable
by its owner only.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# No 0/O, 1/I/L: a code read aloud or copied from a screenshot stays unambiguous.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6

PENDING, RUNNING, DONE, FAILED, DENIED = "pending", "running", "done", "failed", "denied"
# Decided or expired rows are kept this long (the audit log keeps the history for good), so the
# audit log can still say why a replayed code was refused for a month.
RETENTION_S = 30 * 86_400
# Guessing one of ~887 million codes at 5 tries per 15 minutes per chat is hopeless.
MAX_WRONG_CODES = 5
LOCKOUT_S = 15 * 60

_COMMAND = re.compile(
    r"^\s*[`*_]*(approve|deny)[`*_]*(?:\s+[`*_]*([A-Za-z0-9]{3,12})[`*_]*)?\s*[.!]?\s*$",
    re.IGNORECASE,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending_actions (
    code TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    server TEXT NOT NULL,
    remote_tool TEXT NOT NULL,
    arguments TEXT NOT NULL,
    user_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL,
    status TEXT NOT NULL,
    decided REAL,
    outcome TEXT
);
CREATE INDEX IF NOT EXISTS pending_by_chat ON pending_actions (chat_id, user_id, status);
CREATE TABLE IF NOT EXISTS wrong_codes (chat_id TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS wrong_codes_by_chat ON wrong_codes (chat_id, at);
"""


@dataclass(frozen=True)
class PendingAction:
    code: str
    tool: str  # the name the model called
    server: str  # MCP server name ("" for a built-in tool)
    remote_tool: str  # the tool's name on that server
    arguments: dict[str, Any]
    user_id: str
    chat_id: str
    created: float
    expires: float
    status: str = PENDING
    decided: float | None = None
    outcome: str | None = None

    def expired(self, now: float) -> bool:
        return now >= self.expires


@dataclass(frozen=True)
class Command:
    verb: str  # "approve" or "deny"
    code: str | None


@dataclass(frozen=True)
class Claim:
    """The answer to `approve CODE`: the action to run now, or why not."""

    action: PendingAction | None
    refusal: str = ""  # for the user: the same for every code that may not run
    reason: str = ""  # for the audit log: what was really wrong

    @property
    def granted(self) -> bool:
        return self.action is not None


def parse_command(text: str) -> Command | None:
    """`approve CODE`, `deny CODE` or `deny` as the whole message (any case), else None."""
    match = _COMMAND.match(text or "")
    if not match:
        return None
    code = match.group(2)
    return Command(match.group(1).lower(), normalize_code(code) if code else None)


def normalize_code(code: str) -> str:
    return code.strip().upper()


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class ApprovalStore:
    """Pending actions in `<folder>/approvals.sqlite3`. Thread-safe; one connection per call."""

    def __init__(self, folder: Path, *, clock: Callable[[], float] = time.time) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "approvals.sqlite3"
        self.clock = clock
        self._lock = threading.Lock()
        self._owner_only()
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _owner_only(self) -> None:
        """Create the file 0600 and tighten an older, looser one (SQLite copies the database's
        mode to its journal and WAL files, so a leftover one is tightened here too)."""
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                os.chmod(f"{self.path}{suffix}", 0o600)
            except FileNotFoundError:
                continue

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # Autocommit, and a busy timeout: several pipelines-server workers may share the file.
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            db.close()

    # --- proposing ------------------------------------------------------------------------

    def propose(
        self,
        *,
        tool: str,
        server: str,
        remote_tool: str,
        arguments: dict[str, Any],
        user_id: str,
        chat_id: str,
        ttl_s: float,
    ) -> PendingAction:
        """Store a pending action; the same action still pending in this chat keeps its code."""
        now = self.clock()
        encoded = json.dumps(arguments, sort_keys=True, ensure_ascii=False)
        with self._lock, self._connect() as db:
            same = db.execute(
                "SELECT * FROM pending_actions WHERE tool=? AND server=? AND arguments=? "
                "AND user_id=? AND chat_id=? AND status=? AND expires>?",
                (tool, server, encoded, user_id, chat_id, PENDING, now),
            ).fetchone()
            if same is not None:
                return _action(same)
            db.execute("DELETE FROM pending_actions WHERE expires < ?", (now - RETENTION_S,))
            for _ in range(20):
                code = new_code()
                try:
                    db.execute(
                        "INSERT INTO pending_actions (code, tool, server, remote_tool, arguments, "
                        "user_id, chat_id, created, expires, status) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (code, tool, server, remote_tool, encoded, user_id, chat_id, now,
                         now + ttl_s, PENDING),
                    )  # fmt: skip
                    break
                except sqlite3.IntegrityError:  # the code is taken: draw another
                    continue
            else:
                raise RuntimeError("could not draw an unused approval code")
        log.info("proposed %s on %s", tool, server or "builtin")  # the code is a credential
        return self.get(code)  # type: ignore[return-value]

    # --- deciding -------------------------------------------------------------------------

    def get(self, code: str) -> PendingAction | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM pending_actions WHERE code=?", (normalize_code(code),)
            ).fetchone()
        return _action(row) if row else None

    def pending(self, user_id: str, chat_id: str) -> list[PendingAction]:
        """This user's actions still waiting in this chat, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM pending_actions WHERE user_id=? AND chat_id=? AND status=? "
                "AND expires>? ORDER BY created",
                (user_id, chat_id, PENDING, self.clock()),
            ).fetchall()
        return [_action(row) for row in rows]

    def claim(self, code: str, user_id: str, chat_id: str) -> Claim:
        """Take the action for running, exactly once; or say why not, the same for every code."""
        code = normalize_code(code)
        now = self.clock()
        with self._lock, self._connect() as db:
            # One write transaction: workers sharing the file count wrong codes together.
            db.execute("BEGIN IMMEDIATE")
            paused_until = _paused_until(db, chat_id, now)
            taken = 0
            if paused_until is None:
                taken = db.execute(
                    "UPDATE pending_actions SET status=?, decided=? WHERE code=? AND user_id=? "
                    "AND chat_id=? AND status=? AND expires>?",
                    (RUNNING, now, code, user_id, chat_id, PENDING, now),
                ).rowcount
                if not taken:
                    db.execute("INSERT INTO wrong_codes VALUES (?, ?)", (chat_id, now))
                    db.execute("DELETE FROM wrong_codes WHERE at < ?", (now - LOCKOUT_S,))
            db.execute("COMMIT")
        action = self.get(code)
        if taken == 1 and action is not None:
            return Claim(action)
        if paused_until is not None:
            return Claim(
                None,
                f"Too many wrong codes in this chat: `approve` is paused here until "
                f"{format_time(paused_until)}. Nothing was run; `deny` still works.",
                f"approvals paused in this chat after {MAX_WRONG_CODES} wrong codes",
            )
        return Claim(
            None,
            f"{self._refusal(code, user_id, chat_id)} {MAX_WRONG_CODES} wrong codes within "
            f"{LOCKOUT_S // 60} minutes pause `approve` in this chat.",
            _reason(action, user_id, chat_id, now),
        )

    def finish(self, code: str, *, ok: bool, outcome: str) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "UPDATE pending_actions SET status=?, outcome=? WHERE code=? AND status=?",
                (DONE if ok else FAILED, outcome[:2000], normalize_code(code), RUNNING),
            )

    def deny(self, code: str | None, user_id: str, chat_id: str) -> tuple[list[PendingAction], str]:
        """Cancel one code, or (code None) every action pending for this user in this chat."""
        now = self.clock()
        if code is None:
            waiting = self.pending(user_id, chat_id)
            if not waiting:
                return [], "There is no pending action in this chat to deny."
            codes = [action.code for action in waiting]
        else:
            codes = [normalize_code(code)]
        denied: list[PendingAction] = []
        with self._lock, self._connect() as db:
            for each in codes:
                changed = db.execute(
                    "UPDATE pending_actions SET status=?, decided=?, outcome=? WHERE code=? "
                    "AND user_id=? AND chat_id=? AND status=? AND expires>?",
                    (DENIED, now, "denied by the user", each, user_id, chat_id, PENDING, now),
                ).rowcount
                if changed:
                    denied.append(self.get(each))  # type: ignore[arg-type]
        if denied or code is None:
            return denied, ""
        return [], self._refusal(codes[0], user_id, chat_id)

    def deny_all(self, outcome: str) -> list[PendingAction]:
        """Deny every live pending action, of every user and chat (writes were turned off)."""
        now = self.clock()
        with self._lock, self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            rows = db.execute(
                "SELECT * FROM pending_actions WHERE status=? AND expires>?", (PENDING, now)
            ).fetchall()
            db.execute(
                "UPDATE pending_actions SET status=?, decided=?, outcome=? "
                "WHERE status=? AND expires>?",
                (DENIED, now, outcome, PENDING, now),
            )
            db.execute("COMMIT")
        return [replace(_action(row), status=DENIED, decided=now, outcome=outcome) for row in rows]

    def _refusal(self, code: str, user_id: str, chat_id: str) -> str:
        """The one answer for every code that may not run: it depends on who asks and where,
        never on whether or whose the code is."""
        waiting = ", ".join(f"`{a.code}` ({a.tool})" for a in self.pending(user_id, chat_id))
        hint = (
            f"Pending for you in this chat: {waiting}."
            if waiting
            else "Nothing is pending for you in this chat."
        )
        return (
            f"Code `{code}` cannot be used: it is wrong, expired, already used or denied, or not "
            f"yours in this chat. Nothing was run. {hint}"
        )


def _reason(action: PendingAction | None, user_id: str, chat_id: str, now: float) -> str:
    """Why a code was refused, for the audit log only."""
    if action is None:
        return "no such code"
    if action.user_id != user_id:
        return "issued to another user"
    if action.chat_id != chat_id:
        return "issued in another chat"
    if action.status != PENDING:
        return f"already {action.status}"
    if action.expired(now):
        return f"expired at {format_time(action.expires)}"
    return "refused"


def _paused_until(db: sqlite3.Connection, chat_id: str, now: float) -> float | None:
    """When `approve` opens again in this chat, if too many wrong codes paused it."""
    recent = db.execute(
        "SELECT at FROM wrong_codes WHERE chat_id=? AND at>? ORDER BY at DESC LIMIT ?",
        (chat_id, now - LOCKOUT_S, MAX_WRONG_CODES),
    ).fetchall()
    if len(recent) < MAX_WRONG_CODES:
        return None
    return recent[-1]["at"] + LOCKOUT_S


def _action(row: sqlite3.Row) -> PendingAction:
    return PendingAction(
        code=row["code"],
        tool=row["tool"],
        server=row["server"],
        remote_tool=row["remote_tool"],
        arguments=json.loads(row["arguments"]),
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        created=row["created"],
        expires=row["expires"],
        status=row["status"],
        decided=row["decided"],
        outcome=row["outcome"],
    )
