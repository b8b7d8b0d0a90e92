"""`pipekit migrate-state --to URL`: copy a single-process data dir into the shared database.

Run it once when moving from one pipekit process (files and SQLite in the data dir) to
replicas on PostgreSQL. It copies saved valves, approval codes, the audit log and the RAG
catalog; what the database already holds is kept, so running it twice copies nothing twice.
Collections whose chunks are in the data dir's Milvus Lite file cannot follow to a Milvus
server by copying rows: their documents are copied as pending, so searches leave them out
and the next `pipekit ingest` of each source indexes them into the server.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Table, select

from pipekit import settings
from pipekit.rag.catalog import PENDING
from pipekit.rag.store import LITE_FILE
from pipekit.server.valve_store import DatabaseValves, FileValves
from pipekit.stores import Database, StoreUnavailable, redacted
from pipekit.stores.schema import audit_log, collections, documents, pending_actions

log = logging.getLogger("pipekit.migrate_state")


@dataclass
class Copied:
    valves: int = 0
    approvals: int = 0
    audit_entries: int = 0
    collections: int = 0
    documents: int = 0
    pending: int = 0  # documents the next ingest must index again (they were in Milvus Lite)

    def lines(self) -> list[str]:
        lines = [
            f"valves of {self.valves} pipelines, {self.approvals} approval codes, "
            f"{self.audit_entries} audit entries, {self.collections} collections "
            f"({self.documents} documents)"
        ]
        if self.pending:
            lines.append(
                f"{self.pending} documents were in Milvus Lite: with MILVUS_URI set, run "
                "`pipekit ingest SOURCE --collection NAME` for each collection to index them "
                "into the Milvus server (until then searches leave them out)"
            )
        return lines


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "migrate-state",
        help="Copy valves, approvals, audit log and RAG catalog from the data dir into "
        "PostgreSQL (once, when moving to several replicas).",
        description=__doc__,
    )
    parser.add_argument(
        "--to",
        default=None,
        help="The database URL, e.g. postgresql://pipekit:…@db:5432/pipekit. Default: "
        "$PIPEKIT_DATABASE_URL.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="The data dir to copy from. Default: $PIPEKIT_DATA_DIR or ~/.local/share/pipekit.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    url = args.to or settings.database_url()
    if not url.startswith(("postgres://", "postgresql")):
        sys.stderr.write(
            "pipekit migrate-state: give --to postgresql://… (or PIPEKIT_DATABASE_URL)\n"
        )
        return 2
    data_dir = (args.data_dir or settings.data_dir()).expanduser()
    try:
        copied = migrate(data_dir, Database(url))
    except StoreUnavailable as error:
        sys.stderr.write(f"pipekit migrate-state: {error}\n")
        return 1
    sys.stdout.write(f"copied into {redacted(url)}: " + "\n".join(copied.lines()) + "\n")
    return 0


def migrate(data_dir: Path, target: Database) -> Copied:
    copied = Copied()
    copied.valves = _copy_valves(data_dir / "pipelines", target)
    incident = data_dir / "incident"
    if (incident / "approvals.sqlite3").exists():
        source = Database(f"sqlite:///{incident / 'approvals.sqlite3'}", [pending_actions])
        copied.approvals = _copy_rows(source, target, pending_actions)
    copied.audit_entries = _copy_audit(incident / "audit.jsonl", target)
    catalog = data_dir / "rag" / "catalog.sqlite"
    if catalog.exists():
        source = Database(f"sqlite:///{catalog}", [collections, documents])
        copied.collections = _copy_rows(source, target, collections)
        in_lite = (data_dir / "rag" / LITE_FILE).exists()
        copied.documents = _copy_rows(source, target, documents, PENDING if in_lite else None)
        copied.pending = copied.documents if in_lite else 0
    return copied


def _copy_valves(pipelines_dir: Path, target: Database) -> int:
    files, shared = FileValves(pipelines_dir), DatabaseValves(target)
    count = 0
    for path in sorted(pipelines_dir.glob("*/valves.json")):
        module = path.parent.name
        if shared.saved(module) is not None:
            continue  # valves saved since the move win
        try:
            shared.save(module, files.saved(module) or {})
        except ValueError as error:
            log.warning("valves of %s not copied: %s", module, error)
            continue
        count += 1
    return count


def _copy_rows(source: Database, target: Database, table: Table, pending: str | None = None) -> int:
    """Rows of `table` the target does not have yet (by primary key); with `pending`, each
    row's content_hash is replaced by it."""
    with source.read() as db:
        rows = [row._asdict() for row in db.execute(select(table))]
    if pending:
        rows = [row | {"content_hash": pending} for row in rows]
    if not rows:
        return 0
    key = table.primary_key.columns.values()[0]
    with target.transaction() as db:
        inserted = target.insert(table).values(rows).on_conflict_do_nothing().returning(key)
        return len(db.execute(inserted).all())


def _copy_audit(path: Path, target: Database) -> int:
    if not path.exists():
        return 0
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    with target.transaction() as db:
        known = set(db.scalars(select(audit_log.c.entry)))
        new = [
            {"time": json.loads(line)["time"], "entry": line} for line in lines if line not in known
        ]
        if new:
            db.execute(audit_log.insert(), new)
    return len(new)
