"""The audit log: one masked JSON object per line, whole lines even under concurrent appends."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest

from pipekit.incident.audit import REDACTED, AuditLog, mask_value
from pipekit.stores import Database
from pipekit.tools import tool


def test_secrets_and_personal_data_are_masked():
    masked = mask_value(
        {
            "text": "Ping alice@example.com or +1 415-555-0132; token=ghp_" + "a" * 36,
            "api_key": "sk-live-123456789",
            "headers": {"Authorization": "Bearer abcdefghijklmnopqrstuvwxyz"},
            "namespace": "shop",
            "pod_ip": "10.128.0.17",
        }
    )
    flat = json.dumps(masked)
    assert "alice@example.com" not in flat and "[EMAIL_1]" in flat
    assert "415-555-0132" not in flat
    assert "ghp_" not in flat
    assert masked["api_key"] == REDACTED
    assert masked["headers"]["Authorization"] == REDACTED
    assert masked["namespace"] == "shop"
    assert masked["pod_ip"] == "10.128.0.17"  # evidence, not a secret


def test_audited_tool_records_arguments_outcome_and_duration(tmp_path):
    @tool
    def pods_list(namespace: str) -> str:
        """List pods."""
        return f"checkout CrashLoopBackOff in {namespace}; contact oncall@example.com"

    audit = AuditLog(tmp_path)
    wrapped = audit.audited(replace(pods_list, server="openshift"), user="u1", chat="c1")
    assert "CrashLoopBackOff" in wrapped.invoke({"namespace": "shop"}).text
    [entry] = audit.entries()
    assert entry["event"] == "call" and entry["outcome"] == "ok"
    assert entry["user"] == "u1" and entry["chat"] == "c1" and entry["server"] == "openshift"
    assert entry["tool"] == "pods_list" and entry["arguments"] == {"namespace": "shop"}
    assert entry["duration_ms"] >= 0 and entry["time"].endswith("Z")
    assert "oncall@example.com" not in entry["result"]


def test_failed_call_is_recorded_as_an_error(tmp_path):
    @tool
    def pods_log(name: str) -> str:
        """Read a log."""
        raise RuntimeError("pods is forbidden")

    audit = AuditLog(tmp_path)
    wrapped = audit.audited(replace(pods_log, server="openshift"), user="u1", chat="c1")
    try:
        wrapped.invoke({"name": "x"})
    except RuntimeError:
        pass
    [entry] = audit.entries()
    assert entry["outcome"] == "error" and "forbidden" in entry["result"]


def test_concurrent_appends_stay_whole_lines(tmp_path):
    audit = AuditLog(tmp_path)
    big = "x" * 20_000  # larger than a pipe buffer: a torn write would show

    def write(worker: int) -> None:
        for index in range(25):
            audit.record(
                event="call", user=f"u{worker}", chat="c", server="s", tool="t",
                arguments={"index": index, "payload": big}, outcome="ok",
            )  # fmt: skip

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 200
    assert all(json.loads(line)["arguments"]["payload"] == big for line in lines)


def test_replicas_write_one_log_in_the_shared_database(tmp_path, database_url):
    replicas = [
        AuditLog(tmp_path / f"replica-{n}", database=Database(database_url)) for n in (1, 2)
    ]

    def write(replica: int) -> None:
        for index in range(20):
            replicas[replica].record(
                event="call", user=f"u{replica}", chat="c", server="s", tool="t",
                arguments={"index": index, "token": "ghp_" + "a" * 36}, outcome="ok",
            )  # fmt: skip

    threads = [threading.Thread(target=write, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = replicas[0].entries()
    assert len(entries) == 40 and entries == replicas[1].entries()
    assert [e["arguments"]["index"] for e in entries if e["user"] == "u1"] == list(range(20))
    assert all(e["arguments"]["token"] == REDACTED for e in entries)  # masked before it is stored
    assert not list(tmp_path.rglob("audit.jsonl"))


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        ("curl -H 'Authorization: Basic dXNlcjpodW50ZXIy' https://api", "dXNlcjpodW50ZXIy",
         "curl -H 'Authorization: Basic [SECRET_1]' https://api"),
        ("authorization=basic opaque-value", "opaque-value", "authorization=basic [SECRET_1]"),
        ("proxy sent Basic YWRtaW46aHVudGVyMg== upstream", "YWRtaW46aHVudGVyMg==",
         "proxy sent Basic [SECRET_1] upstream"),
        ("DATABASE_URL=postgres://admin:s3cr%40t@db.shop.svc:5432/orders is unreachable",
         "s3cr%40t", "postgres://admin:[SECRET_1]@db.shop.svc:5432/orders is unreachable"),
        ("redis://:hunter2@redis:6379/0", "hunter2", "redis://:[SECRET_1]@redis:6379/0"),
        ("The admin password is hunter2.", "hunter2", "The admin password is [SECRET_1]."),
        ("password: abc123, user: root", "abc123", "password: [SECRET_1], user: root"),
        ('{"password": "s3cr3t"}', "s3cr3t", '{"password": "[SECRET_1]"}'),
        ("비밀번호는 hunter2입니다", "hunter2", "비밀번호는 [SECRET_1]입니다"),
        ("관리자 비밀번호: 1234 (임시)", "1234", "관리자 비밀번호: [SECRET_1] (임시)"),
    ],
)  # fmt: skip
def test_credentials_in_text_are_masked_and_the_rest_stays_readable(text, secret, kept):
    masked = mask_value({"result": text})["result"]
    assert secret not in masked and kept in masked


@pytest.mark.parametrize(
    "text",
    [
        "Basic troubleshooting: basic auth is off",
        "login failed: password is incorrect",
        "비밀번호가 틀렸습니다",
        "https://example.com:8443/healthz",
    ],
)
def test_words_around_credentials_alone_are_not_masked(text):
    assert mask_value(text) == text
