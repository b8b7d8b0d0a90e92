"""Where pipekit's records live: one PostgreSQL database for every replica, else SQLite files.

`PIPEKIT_DATABASE_URL` set: valves, approvals, the audit log and the RAG catalog share one
PostgreSQL database (SQLAlchemy 2 with psycopg 3), brought up to date by the Alembic
migrations in `migrations/` when a process first uses it. Unset: each store keeps its own
SQLite file in the data dir, as a single process always has. Both run the same queries.

A database that does not answer costs one connect timeout, then every call fails at once with
StoreUnavailable for RETRY_S; the call after that tries again. So the server starts and
serves what does not need the database, and recovers by itself when it is back.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, create_engine, delete, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import NullPool

from pipekit import settings

from . import schema
from .urls import redacted

log = logging.getLogger(__name__)

RETRY_S = 5.0
CONNECT_TIMEOUT_S = 3
MIGRATIONS = Path(__file__).parent / "migrations"
# Its own name, so a database that also holds another Alembic project's table is not confused.
VERSION_TABLE = "pipekit_alembic_version"
_SCHEMA_LOCK = "pipekit schema upgrade"


class StoreUnavailable(RuntimeError):
    """A shared store does not answer; the message names it (never its password)."""


class LockHeld(RuntimeError):
    """Someone else holds the lock; the message says who and since when."""


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    since: float

    @classmethod
    def me(cls) -> Holder:
        return cls(socket.gethostname(), os.getpid(), time.time())

    def __str__(self) -> str:
        when = datetime.fromtimestamp(self.since, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self.host} (pid {self.pid}) since {when}"


class Database:
    """A SQLAlchemy engine with pipekit's rules: transactions that lock as SQLite needs,
    errors that name the database, a schema created on first use, and named locks."""

    def __init__(self, url: str, tables: Sequence[Table] = (), *, private: bool = False) -> None:
        self.where = redacted(url)
        self.shared = not url.startswith("sqlite")
        self.tables = tables
        self._ready = False
        self._ready_lock = threading.Lock()
        self._down_until = 0.0
        self._down_reason = ""
        if self.shared:
            self.engine = _postgresql_engine(url)
            self.path: Path | None = None
        else:
            self.path = Path(url.removeprefix("sqlite:///"))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if private:
                _owner_only(self.path)
            self.engine = _sqlite_engine(self.path)

    # --- transactions -----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction that will write: on SQLite it takes the write lock at BEGIN, so
        two processes never both read-then-write; on PostgreSQL rows lock as they change."""
        with self._connection(immediate=True) as connection, connection.begin():
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._connection(immediate=False) as connection, connection.begin():
            yield connection

    def insert(self, table: Table):
        """The dialect's INSERT, with `on_conflict_do_nothing` / `on_conflict_do_update`."""
        return (postgresql if self.shared else sqlite).insert(table)

    @contextmanager
    def _connection(self, *, immediate: bool) -> Iterator[Connection]:
        self._ensure_schema()
        with self._translated():
            with self.engine.connect() as connection:
                yield connection.execution_options(immediate=immediate)

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """A lost database becomes StoreUnavailable, and calls fail fast for RETRY_S."""
        if self.shared and time.monotonic() < self._down_until:
            raise StoreUnavailable(self._unreachable(self._down_reason))
        try:
            yield
        except DBAPIError as error:
            if not (self.shared and _lost_connection(error)):
                raise
            self._down_reason = _first_line(error.orig or error)
            self._down_until = time.monotonic() + RETRY_S
            raise StoreUnavailable(self._unreachable(self._down_reason)) from error

    def _unreachable(self, reason: str) -> str:
        return (
            f"The database at {self.where} is not reachable ({reason}). Valves, approvals and "
            f"document collections wait for it; pipekit tries again every {RETRY_S:g} s."
        )

    # --- schema and health --------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        with self._ready_lock, self._translated():
            if self._ready:
                return
            if self.shared:
                _upgrade(self.engine)
            else:
                schema.metadata.create_all(self.engine, tables=list(self.tables))
            self._ready = True

    def check(self) -> str:
        """Nothing when the database answers (its schema up to date), else why not. Ignores
        the fail-fast pause: a health probe is how a recovery is noticed."""
        self._down_until = 0.0
        try:
            with self.read() as connection:
                connection.execute(text("SELECT 1"))
        except StoreUnavailable as error:
            return str(error)
        return ""

    # --- named locks ---------------------------------------------------------------------------

    @contextmanager
    def lock(self, name: str, *, wait_s: float = 0.0) -> Iterator[None]:
        """Hold `name` across processes and hosts; LockHeld after `wait_s` says who has it.
        A process that dies lets go (its session ends, or its file descriptor closes)."""
        holder = _file_lock if not self.shared else _session_lock
        with holder(self, name, wait_s):
            yield


# --- opening ---------------------------------------------------------------------------------

_OPEN: dict[str, Database] = {}
_OPEN_LOCK = threading.Lock()


def shared_database() -> Database | None:
    """The database of PIPEKIT_DATABASE_URL, one per process; None when it is not set."""
    url = settings.database_url()
    return _opened(url, ()) if url else None


def database_for(path: Path, tables: Sequence[Table], *, private: bool = False) -> Database:
    """The shared database when PIPEKIT_DATABASE_URL is set, else the SQLite file at `path`
    with `tables` (0600 when `private`)."""
    return shared_database() or _opened(f"sqlite:///{Path(path).resolve()}", tables, private)


def _opened(url: str, tables: Sequence[Table], private: bool = False) -> Database:
    with _OPEN_LOCK:
        database = _OPEN.get(url)
        if database is None:
            database = _OPEN[url] = Database(url, tables, private=private)
        return database


def _postgresql_engine(url: str) -> Engine:
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql"):  # the URL people write; psycopg 3 is the driver
        scheme = "postgresql+psycopg"
    return create_engine(
        f"{scheme}://{rest}",
        pool_pre_ping=True,  # a restarted database leaves dead connections in the pool
        pool_size=5,
        max_overflow=20,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
    )


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": 30, "check_same_thread": False},
        poolclass=NullPool,  # a file opened per transaction, as the stores always did
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # BEGIN is ours to say, below
        dbapi_connection.execute("PRAGMA journal_mode=WAL")  # the server reads while ingest writes
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("immediate")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _upgrade(engine: Engine) -> None:
    """Alembic to head, one replica at a time (the others wait, then find nothing to do)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _key(_SCHEMA_LOCK)})
        config.attributes["connection"] = connection
        config.attributes["version_table"] = VERSION_TABLE
        command.upgrade(config, "head")


def _owner_only(path: Path) -> None:
    """Create the file 0600 and tighten an older, looser one (SQLite gives its WAL and journal
    files the database's mode, so a leftover one is tightened too)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for suffix in ("", "-journal", "-wal", "-shm"):
        try:
            os.chmod(f"{path}{suffix}", 0o600)
        except FileNotFoundError:
            continue


def _lost_connection(error: DBAPIError) -> bool:
    return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _key(name: str) -> int:
    """A PostgreSQL advisory lock key: 64 signed bits of the name's hash."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def _session_lock(database: Database, name: str, wait_s: float) -> Iterator[None]:
    """A session advisory lock on its own connection, and a row saying who holds it."""
    key = _key(name)
    with database._connection(immediate=False) as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")

        def holder() -> Holder | str:
            row = connection.execute(
                select(schema.locks).where(schema.locks.c.name == name)
            ).first()
            return Holder(row.host, row.pid, row.since) if row else "another process"

        _acquire(
            name,
            wait_s,
            lambda: connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}),
            holder,
        )
        me = Holder.me()
        upsert = database.insert(schema.locks).values(name=name, **vars(me))
        connection.execute(upsert.on_conflict_do_update(index_elements=["name"], set_=vars(me)))
        try:
            yield
        finally:
            connection.execute(delete(schema.locks).where(schema.locks.c.name == name))
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


@contextmanager
def _file_lock(database: Database, name: str, wait_s: float) -> Iterator[None]:
    """An exclusive flock on a file beside the database, which holds who took it."""
    assert database.path is not None
    folder = database.path.parent / "locks"
    folder.mkdir(exist_ok=True)
    path = folder / (hashlib.sha256(name.encode()).hexdigest()[:16] + ".lock")
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def take() -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    try:
        _acquire(name, wait_s, take, lambda: _holder_in(path))
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(vars(Holder.me())).encode(), 0)
        yield
    finally:
        os.close(descriptor)  # closing releases the flock


def _acquire(
    name: str, wait_s: float, take: Callable[[], bool], holder: Callable[[], Holder | str]
) -> None:
    """Take the lock, trying every half second for `wait_s`; LockHeld says who has it."""
    deadline = time.monotonic() + wait_s
    waited = False
    while not take():
        if time.monotonic() >= deadline:
            raise LockHeld(f"{name} is running on {holder()}.")
        if not waited:
            log.info("%s is running on %s; waiting up to %g s", name, holder(), wait_s)
            waited = True
        time.sleep(0.5)


def _holder_in(path: Path) -> Holder | str:
    try:
        return Holder(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return "another process"
