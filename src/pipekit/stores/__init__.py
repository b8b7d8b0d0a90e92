"""Where state lives: shared engines for several replicas, the data dir for one.

- `database`: PostgreSQL (`PIPEKIT_DATABASE_URL`, Alembic migrations) or SQLite files; named
  locks across processes and hosts.
- `shared`: Redis (`PIPEKIT_REDIS_URL` / `REDIS_URL`) or this process's memory, for short-lived
  state such as PII tables, block notices and fetched pages.
- `health`: which configured store answers, for `/pipekit/status` and `/pipekit/ready`.
"""

from .database import Database, LockHeld, StoreUnavailable, database_for, shared_database
from .memory import ExpiringDict
from .shared import SharedMap
from .urls import redacted

__all__ = [
    "Database",
    "ExpiringDict",
    "LockHeld",
    "SharedMap",
    "StoreUnavailable",
    "database_for",
    "redacted",
    "shared_database",
]
