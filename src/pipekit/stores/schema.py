"""Every table pipekit keeps in a database, for SQLAlchemy Core queries.

PostgreSQL gets them through the Alembic migrations in `migrations/` (change a table here and
add a revision there). The embedded SQLite files create the tables their store uses with
these same definitions, which match the files earlier versions wrote.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
)

metadata = MetaData()

# --- incident approvals (incident/approvals.py) ------------------------------------------------

pending_actions = Table(
    "pending_actions",
    metadata,
    Column("code", Text, primary_key=True),
    Column("tool", Text, nullable=False),
    Column("server", Text, nullable=False),
    Column("remote_tool", Text, nullable=False),
    Column("arguments", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("chat_id", Text, nullable=False),
    Column("created", Float, nullable=False),
    Column("expires", Float, nullable=False),
    Column("status", Text, nullable=False),
    Column("decided", Float),
    Column("outcome", Text),
    Index("pending_by_chat", "chat_id", "user_id", "status"),
)

wrong_codes = Table(
    "wrong_codes",
    metadata,
    Column("chat_id", Text, nullable=False),
    Column("at", Float, nullable=False),
    Index("wrong_codes_by_chat", "chat_id", "at"),
)

# --- the incident audit log (incident/audit.py; a JSONL file when embedded) -----------------

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", Text, nullable=False),
    Column("entry", Text, nullable=False),  # the masked JSON object, as the JSONL line holds it
)

# --- saved valves (server/; valves.json files when embedded) ---------------------------------

valves = Table(
    "valves",
    metadata,
    Column("pipeline", Text, primary_key=True),  # the script's module name, as the folder's
    Column("values", Text, nullable=False),  # JSON
    Column("revision", Integer, nullable=False),  # +1 per save: replicas compare it per request
)

# --- the RAG catalog (rag/catalog.py; chunk texts, vectors and keywords live in Milvus) ------

collections = Table(
    "collections",
    metadata,
    Column("name", Text, primary_key=True),
    Column("owner", Text),
    Column("chat_id", Text),
    Column("embed_model", Text, nullable=False),
    Column("dimension", Integer, nullable=False),
    Column("created", Float, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
)

documents = Table(
    "documents",
    metadata,
    Column("collection", Text, primary_key=True),
    Column("doc_id", Text, primary_key=True),
    Column("content_hash", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("origin", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    Column("updated", Float, nullable=False),
)

# --- who holds a lock (database.Database.lock) ------------------------------------------------

locks = Table(
    "locks",
    metadata,
    Column("name", Text, primary_key=True),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("since", Float, nullable=False),
)
