"""Pending write actions and their one-time approval codes, kept in a database.

A write the agent proposes (restart, scale, Slack post) is never run at once: it is stored
with the exact arguments, who asked, in which chat, and when it expires, under a short code.
Only the same user, in the same chat, before it expires, can run it — once. The claim is one
conditional UPDATE, so two `approve` messages racing (two server workers, a double click)
cannot both run it. The database is the shared PostgreSQL of PIPEKIT_DATABASE_URL, so a
code issued by one replica is approved (once) on another; else a SQLite file in the data dir,
readable by its owner only. Either way a restart keeps the codes.

Every code that may not run gets the same refusal, whether it is unknown, expired, used,
denied, another user's or another chat's: the answer never tells a guesser that a code exists
(the audit log keeps the real reason). MAX_WRONG_CODES wrong codes in a chat within LOCKOUT_S
pause `approve` there until the first of them is LOCKOUT_S old (`deny` always works); the
count lives in the same database, so it holds across workers and replicas.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from pipekit.stores import Database, database_for
from pipekit.stores.schema import pending_actions, wrong_codes

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
    """Pending actions in the shared database, else in `<folder>/approvals.sqlite3` (0600).
    Thread-safe; a connection per call."""

    def __init__(
        self,
        folder: Path,
        *,
        clock: Callable[[], float] = time.time,
        database: Database | None = None,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.database = database or database_for(
            folder / "approvals.sqlite3", [pending_actions, wrong_codes], private=True
        )
        self.path = self.database.path  # None in the shared database
        self.clock = clock

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
        row = {
            "tool": tool,
            "server": server,
            "arguments": encoded,
            "user_id": user_id,
            "chat_id": chat_id,
        }
        with self.database.transaction() as db:
            same = db.execute(
                select(pending_actions)
                .filter_by(**row, status=PENDING)
                .where(pending_actions.c.expires > now)
            ).first()
            if same is not None:
                return _action(same)
            db.execute(delete(pending_actions).where(pending_actions.c.expires < now - RETENTION_S))
            row |= {"remote_tool": remote_tool, "created": now, "expires": now + ttl_s}
            for _ in range(20):
                code = new_code()
                stored = db.execute(
                    self.database.insert(pending_actions)
                    .values(**row, code=code, status=PENDING)
                    .on_conflict_do_nothing()  # the code is taken: draw another
                ).rowcount
                if stored:
                    break
            else:
                raise RuntimeError("could not draw an unused approval code")
        log.info("proposed %s on %s", tool, server or "builtin")  # the code is a credential
        return self.get(code)  # type: ignore[return-value]

    # --- deciding -------------------------------------------------------------------------

    def get(self, code: str) -> PendingAction | None:
        with self.database.read() as db:
            row = db.execute(
                select(pending_actions).where(pending_actions.c.code == normalize_code(code))
            ).first()
        return _action(row) if row else None

    def pending(self, user_id: str, chat_id: str) -> list[PendingAction]:
        """This user's actions still waiting in this chat, oldest first."""
        with self.database.read() as db:
            rows = db.execute(
                select(pending_actions)
                .filter_by(user_id=user_id, chat_id=chat_id, status=PENDING)
                .where(pending_actions.c.expires > self.clock())
                .order_by(pending_actions.c.created)
            ).all()
        return [_action(row) for row in rows]

    def claim(self, code: str, user_id: str, chat_id: str) -> Claim:
        """Take the action for running, exactly once; or say why not, the same for every code."""
        code = normalize_code(code)
        now = self.clock()
        # One transaction: the conditional UPDATE lets one claim win however many race (the
        # row locks on PostgreSQL; SQLite's write lock is taken at BEGIN).
        with self.database.transaction() as db:
            paused_until = _paused_until(db, chat_id, now)
            taken = 0
            if paused_until is None:
                taken = db.execute(
                    update(pending_actions)
                    .filter_by(code=code, user_id=user_id, chat_id=chat_id, status=PENDING)
                    .where(pending_actions.c.expires > now)
                    .values(status=RUNNING, decided=now)
                ).rowcount
                if not taken:
                    db.execute(insert(wrong_codes).values(chat_id=chat_id, at=now))
                    db.execute(delete(wrong_codes).where(wrong_codes.c.at < now - LOCKOUT_S))
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
        with self.database.transaction() as db:
            db.execute(
                update(pending_actions)
                .filter_by(code=normalize_code(code), status=RUNNING)
                .values(status=DONE if ok else FAILED, outcome=outcome[:2000])
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
        with self.database.transaction() as db:
            denied_codes = [
                each
                for each in codes
                if db.execute(
                    update(pending_actions)
                    .filter_by(code=each, user_id=user_id, chat_id=chat_id, status=PENDING)
                    .where(pending_actions.c.expires > now)
                    .values(status=DENIED, decided=now, outcome="denied by the user")
                ).rowcount
            ]
        denied = [self.get(each) for each in denied_codes]
        if denied or code is None:
            return denied, ""  # type: ignore[return-value]
        return [], self._refusal(codes[0], user_id, chat_id)

    def deny_all(self, outcome: str) -> list[PendingAction]:
        """Deny every live pending action, of every user and chat (writes were turned off)."""
        now = self.clock()
        live = (pending_actions.c.status == PENDING) & (pending_actions.c.expires > now)
        with self.database.transaction() as db:
            rows = db.execute(select(pending_actions).where(live).with_for_update()).all()
            db.execute(
                update(pending_actions)
                .where(pending_actions.c.code.in_([row.code for row in rows]))
                .values(status=DENIED, decided=now, outcome=outcome)
            )
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


def _paused_until(db: Connection, chat_id: str, now: float) -> float | None:
    """When `approve` opens again in this chat, if too many wrong codes paused it."""
    recent = db.scalars(
        select(wrong_codes.c.at)
        .where((wrong_codes.c.chat_id == chat_id) & (wrong_codes.c.at > now - LOCKOUT_S))
        .order_by(wrong_codes.c.at.desc())
        .limit(MAX_WRONG_CODES)
    ).all()
    if len(recent) < MAX_WRONG_CODES:
        return None
    return recent[-1] + LOCKOUT_S


def _action(row: Row) -> PendingAction:
    fields = row._asdict()
    return PendingAction(**fields | {"arguments": json.loads(fields["arguments"])})
