"""Pending write actions and their one-time approval codes, kept in SQLite.

A write the agent proposes (restart, scale, Slack post) is never run at once: it is stored
with the exact arguments, who asked, in which chat, and when it expires, under a short code.
Only the same user, in the same chat, before it expires, can run it — once. The claim is one
conditional UPDATE, so two `approve` messages racing (two server workers, a double click)
cannot both run it. The database sits in the data dir, so a server restart keeps the codes.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# No 0/O, 1/I/L: a code read aloud or copied from a screenshot stays unambiguous.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6

PENDING, RUNNING, DONE, FAILED, DENIED = "pending", "running", "done", "failed", "denied"
# Decided or expired rows are kept this long (the audit log keeps the history for good), so a
# replayed code still gets "already used" rather than "no such code" for a month.
RETENTION_S = 30 * 86_400

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
    refusal: str = ""

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
        with self._connect() as db:
            db.executescript(_SCHEMA)

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
        log.info("proposed %s on %s as %s", tool, server or "builtin", code)
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
        """Take the action for running, exactly once; or say plainly why it may not run."""
        code = normalize_code(code)
        now = self.clock()
        with self._lock, self._connect() as db:
            taken = db.execute(
                "UPDATE pending_actions SET status=?, decided=? WHERE code=? AND user_id=? "
                "AND chat_id=? AND status=? AND expires>?",
                (RUNNING, now, code, user_id, chat_id, PENDING, now),
            ).rowcount
        action = self.get(code)
        if taken == 1 and action is not None:
            return Claim(action)
        return Claim(None, self._refusal(code, action, user_id, chat_id, now, "approve"))

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
        action = self.get(codes[0])
        return [], self._refusal(codes[0], action, user_id, chat_id, now, "deny")

    def _refusal(
        self,
        code: str,
        action: PendingAction | None,
        user_id: str,
        chat_id: str,
        now: float,
        verb: str,
    ) -> str:
        if action is None:
            waiting = self.pending(user_id, chat_id)
            hint = (
                " Pending in this chat: " + ", ".join(f"`{a.code}` ({a.tool})" for a in waiting)
                if waiting
                else " Nothing is pending in this chat."
            )
            return f"No pending action has the code `{code}`. Check the code and try again.{hint}"
        if action.user_id != user_id:
            return (
                f"Code `{code}` was issued to another user: only the person who asked for the "
                f"action can {verb} it. Nothing was run."
            )
        if action.chat_id != chat_id:
            return (
                f"Code `{code}` belongs to another chat: {verb} it in the chat where it was "
                "proposed. Nothing was run."
            )
        if action.status in (RUNNING, DONE, FAILED):
            when = format_time(action.decided) if action.decided else "earlier"
            return (
                f"Code `{code}` was already used ({action.tool} was approved at {when}). A code "
                "runs its action once: ask again for a new code. Nothing was run."
            )
        if action.status == DENIED:
            return f"Code `{code}` was denied earlier; its action will not run. Nothing was run."
        if action.expired(now):
            return (
                f"Code `{code}` expired at {format_time(action.expires)}. Ask the agent again "
                "to get a new code. Nothing was run."
            )
        return f"Code `{code}` cannot be used ({action.status}). Nothing was run."


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
