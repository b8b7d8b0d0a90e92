"""`pipekit migrate-state`: one command moves a single-process data dir into PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

from pipekit.incident.approvals import ApprovalStore
from pipekit.incident.audit import AuditLog
from pipekit.rag.catalog import PENDING, Catalog
from pipekit.server.valve_store import FileValves
from pipekit.stores import Database


def single_process_data_dir(data_dir):
    """State as one `pipekit serve` leaves it: valves.json, SQLite files, the JSONL audit log."""
    FileValves(data_dir / "pipelines").save(
        "chat", {"system_prompt": "Be brief.", "max_tokens": 77}
    )
    incident = data_dir / "incident"
    action = ApprovalStore(incident).propose(
        tool="post_message", server="slack", remote_tool="post_message",
        arguments={"channel": "#ops", "text": "restarting"}, user_id="u1", chat_id="c1", ttl_s=900,
    )  # fmt: skip
    AuditLog(incident).record(
        event="proposed", user="u1", chat="c1", server="slack", tool="post_message",
        arguments={"channel": "#ops"}, outcome="pending", approval_code=action.code,
    )  # fmt: skip
    catalog = Catalog(data_dir / "rag" / "catalog.sqlite")
    catalog.ensure_collection("runbooks", "local:all-MiniLM-L6-v2", 384)
    catalog.replace_document(
        "runbooks", doc_id="oom.md", content_hash="abc", title="OOM", origin="/runbooks",
        metadata={},
    )  # fmt: skip
    (data_dir / "rag" / "milvus.db").mkdir()  # the chunks were in Milvus Lite
    return action


def migrate_state(data_dir, url) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipekit.cli", "migrate-state", "--to", url,
         "--data-dir", str(data_dir)],
        env=dict(os.environ), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_one_command_copies_valves_approvals_audit_and_catalog(
    tmp_path, database_url, start_server, monkeypatch
):
    monkeypatch.delenv("PIPEKIT_DATABASE_URL", raising=False)
    action = single_process_data_dir(tmp_path / "old")
    copied = migrate_state(tmp_path / "old", database_url)
    assert copied.returncode == 0, copied.stderr
    counts = "valves of 1 pipelines, 1 approval codes, 1 audit entries, 1 collections"
    assert counts in copied.stdout
    assert "1 documents were in Milvus Lite" in copied.stdout
    assert "@" not in copied.stdout.split(":", 1)[0]

    shared = Database(database_url)
    assert ApprovalStore(tmp_path / "x", database=shared).get(action.code) == action
    assert (
        AuditLog(tmp_path / "x", database=shared).entries()
        == AuditLog(tmp_path / "old" / "incident").entries()
    )
    catalog = Catalog(tmp_path / "x" / "catalog.sqlite", database=shared)
    assert [c.name for c in catalog.collections()] == ["runbooks"]
    # Pending: searches leave it out until `pipekit ingest` puts it in the Milvus server.
    assert catalog.document_hashes("runbooks") == {"oom.md": (PENDING, "/runbooks")}

    again = migrate_state(tmp_path / "old", database_url)
    assert "valves of 0 pipelines, 0 approval codes, 0 audit entries, 0 collections" in again.stdout

    server = start_server(env={"PIPEKIT_DATABASE_URL": database_url})
    with server.client() as client:
        valves = client.get("/chat/valves").json()
    assert (valves["system_prompt"], valves["max_tokens"]) == ("Be brief.", 77)


def test_without_a_database_url_it_says_what_to_give(tmp_path, monkeypatch):
    monkeypatch.delenv("PIPEKIT_DATABASE_URL", raising=False)
    refused = migrate_state(tmp_path, "")
    assert refused.returncode == 2 and "give --to postgresql://" in refused.stderr
