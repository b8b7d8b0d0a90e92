"""Investigations through `pipekit serve` and the real MCP servers (stdio) on the fake cluster:
each scenario's evidence reaches the model, steps stream as status lines, and down servers
are reported while the rest keeps working."""

from __future__ import annotations

import pytest

from pipekit.testing.fake_ollama import Reply

from .conftest import audit_entries, call, say, set_valves, stdio_servers, tool_results


@pytest.fixture(scope="module", autouse=True)
def _stdio(server, cluster, slack):
    set_valves(server, mcp_servers=stdio_servers(cluster, slack), collections=[])


def test_crashloop_evidence_reaches_the_model_and_the_answer_streams(server, model):
    pod = "checkout-7d9f8c6b5-x7k2p"
    model.script(
        call("pods_list", namespace="shop", status="unhealthy"),
        call("events_list", namespace="shop", warnings_only=True),
        call("pods_log", namespace="shop", name=pod, previous=True),
        Reply(content="**Root cause**: checkout exits because DATABASE_URL is not set."),
    )
    turn = say(server, "checkout pods keep restarting in shop", chat="crash-1")

    assert turn.answer.startswith("**Root cause**: checkout exits because DATABASE_URL")
    pods, events, log = tool_results(model)
    assert "CrashLoopBackOff" in pods and pod in pods
    assert "BackOff" in events and "Back-off restarting failed container" in events
    assert "required environment variable DATABASE_URL is not set" in log
    assert "KeyError: 'DATABASE_URL'" in log
    assert {"Asking openshift: pods_list", "Asking openshift: pods_log"} <= set(turn.statuses)
    assert "Agent steps (3)" in turn.answer
    first_request = model.bodies("/api/chat")[0]
    assert "Investigate in this order" in first_request["messages"][0]["content"]
    offered = {t["function"]["name"] for t in first_request["tools"]}
    assert {"pods_list", "events_list", "pods_log", "deployment_restart", "post_message"} <= offered


@pytest.mark.parametrize(
    ("namespace", "question", "pods_evidence", "events_evidence"),
    [
        ("analytics", "report-worker keeps dying", "OOMKilled", "Back-off restarting"),
        ("payments", "payments-api is not starting", "ImagePullBackOff", "not found"),
        ("batch", "ml-trainer never starts", "Pending", "Insufficient cpu"),
        ("web", "is the website ok?", "No pods with status 'unhealthy'", "No warning events"),
    ],
)
def test_each_scenario_shows_its_cause_in_the_evidence(
    server, model, namespace, question, pods_evidence, events_evidence
):
    model.script(
        call("pods_list", namespace=namespace, status="unhealthy"),
        call("events_list", namespace=namespace, warnings_only=True),
        Reply(content=f"Summary for {namespace}."),
    )
    turn = say(server, question, chat=f"scenario-{namespace}")
    pods, events = tool_results(model)
    assert pods_evidence in pods
    assert events_evidence in events
    assert turn.answer.startswith(f"Summary for {namespace}.")
    assert "Approval needed" not in turn.answer


def test_oomkilled_pod_details_name_the_memory_limit(server, model):
    model.script(
        call("pods_get", namespace="analytics", name="report-worker-6f8d9b7c4-h5j6k"),
        Reply(content="OOMKilled at 256Mi."),
    )
    say(server, "why is report-worker restarting?", chat="oom-get")
    [described] = tool_results(model)
    assert "OOMKilled" in described and "256Mi" in described


def test_every_read_is_in_the_audit_log_with_user_and_chat(server, model):
    model.script(
        call("pods_list", namespace="batch"),
        call("events_list", namespace="kube-system"),  # forbidden: recorded as an error
        Reply(content="done"),
    )
    say(server, "what runs in batch?", chat="audit-reads")
    entries = [e for e in audit_entries(server) if e["chat"] == "audit-reads"]
    assert [(e["tool"], e["outcome"]) for e in entries] == [
        ("pods_list", "ok"),
        ("events_list", "error"),
    ]
    assert all(e["user"] == "user-a" and e["server"] == "openshift" for e in entries)
    assert entries[0]["arguments"] == {"namespace": "batch"}
    assert "ml-trainer" in entries[0]["result"] and entries[0]["duration_ms"] >= 0
    assert "forbidden" in entries[1]["result"]


def test_a_down_server_is_a_status_line_and_the_rest_still_works(server, model, cluster, slack):
    broken = {"name": "broken", "command": "/nonexistent/mcp-server"}
    set_valves(server, mcp_servers=[*stdio_servers(cluster, slack), broken])
    try:
        model.script(call("pods_list", namespace="shop"), Reply(content="Checked shop."))
        turn = say(server, "status of shop?", chat="down-server")
    finally:
        set_valves(server, mcp_servers=stdio_servers(cluster, slack))
    assert any("MCP server broken" in s and "no such program" in s for s in turn.statuses)
    assert "checkout-7d9f8c6b5" in tool_results(model)[0]
    assert turn.answer.startswith("Checked shop.")
    assert "MCP server broken" in turn.answer  # also under the answer: statuses fade


def test_runbook_search_missing_is_reported_not_fatal(server, model):
    set_valves(server, collections=["runbooks"])
    try:
        model.script(Reply(content="No tools needed."))
        turn = say(server, "hello", chat="runbooks")
    finally:
        set_valves(server, collections=[])
    assert turn.answer.startswith("No tools needed.")
    rag_missing = any("rag_search" in s for s in turn.statuses)
    offered = {t["function"]["name"] for t in model.bodies("/api/chat")[0]["tools"]}
    assert rag_missing or "rag_search" in offered  # pipekit.rag lands in a sibling issue


def test_without_allow_writes_no_write_tool_is_offered(server, model):
    set_valves(server, allow_writes=False)
    try:
        model.script(Reply(content="Read-only answer."))
        say(server, "restart checkout in shop", chat="no-writes")
    finally:
        set_valves(server, allow_writes=True)
    offered = {t["function"]["name"] for t in model.bodies("/api/chat")[0]["tools"]}
    assert "pods_list" in offered
    assert not offered & {"deployment_restart", "deployment_scale", "post_message"}
