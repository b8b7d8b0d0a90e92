"""Writes through `pipekit serve`: nothing runs until the same user approves in the same chat;
a code runs once; wrong, replayed, foreign, expired and denied codes run nothing; read-only
servers refuse; the audit log has every step with secrets masked."""

from __future__ import annotations

import pytest

from pipekit.testing.fake_ollama import Reply

from .conftest import (
    BOB,
    audit_entries,
    call,
    code_in,
    expire,
    say,
    set_valves,
    stdio_servers,
)

ALERT = "[FIRING] KubePodCrashLooping shop/checkout"
SLACK_TEXT = "checkout in shop is crash-looping: DATABASE_URL is not set. Investigating."


@pytest.fixture(autouse=True)
def _stdio(server, cluster, slack):
    set_valves(server, mcp_servers=stdio_servers(cluster, slack), collections=[], allow_writes=True)


def propose_post(server, model, chat: str, text: str = SLACK_TEXT) -> str:
    model.script(
        call("post_message", channel="#incidents", text=text),
        Reply(content="I drafted a Slack message for #incidents."),
    )
    turn = say(server, ALERT, chat=chat)
    return code_in(turn.answer)


def test_proposed_post_shows_the_exact_action_and_runs_only_after_approval(server, model, slack):
    model.script(
        call("post_message", channel="#incidents", text=SLACK_TEXT),
        Reply(content="I drafted a Slack message for #incidents."),
    )
    turn = say(server, ALERT, chat="flow-post")
    code = code_in(turn.answer)
    assert "Approval needed: nothing has changed yet" in turn.answer
    assert "`post_message` on **slack**" in turn.answer
    assert f'"text": "{SLACK_TEXT}"' in turn.answer and '"channel": "#incidents"' in turn.answer
    assert f"`deny {code}`" in turn.answer
    assert "Proposed post_message: waiting for approval" in turn.statuses
    # The model was told it did not run.
    tool_message = model.bodies("/api/chat")[-1]["messages"][-1]
    assert tool_message["role"] == "tool" and "Not run" in tool_message["content"]
    assert slack.posted == []

    approved = say(server, f"approve {code}", chat="flow-post")
    assert f"✅ Approved `{code}`: ran `post_message` on slack once." in approved.answer
    assert "Posted to #incidents" in approved.answer
    assert [(p["channel"], p["text"]) for p in slack.posted] == [("C0INCIDENT", SLACK_TEXT)]

    replay = say(server, f"approve {code}", chat="flow-post")
    assert "cannot be used" in replay.answer and "Nothing was run" in replay.answer
    assert len(slack.posted) == 1
    assert len(model.bodies("/api/chat")) == 2  # decisions never go to the model


def test_approved_restart_patches_the_deployment_once(server, model, cluster):
    model.script(
        call("deployment_restart", namespace="web", name="nginx"),
        Reply(content="A restart is proposed."),
    )
    code = code_in(say(server, "nginx in web is stuck, restart it", chat="flow-restart").answer)
    assert cluster.fake.patches == []
    answer = say(server, f"approve {code}", chat="flow-restart").answer
    assert "Restarted deployment web/nginx" in answer
    assert len(cluster.fake.patches) == 1
    say(server, f"approve {code}", chat="flow-restart")
    assert len(cluster.fake.patches) == 1


def test_refused_codes_run_nothing_and_read_like_an_unknown_code(server, model, slack):
    """Another user's, another chat's, an expired and a used code get the answer a made-up
    code gets: a refusal never confirms that a code exists."""
    code = propose_post(server, model, "flow-refusals")

    def refusal(tried: str, *, chat: str = "flow-refusals", user: dict | None = None) -> str:
        answer = say(server, f"approve {tried}", chat=chat, user=user).answer
        assert "Nothing was run" in answer
        return answer.replace(tried, "CODE")

    wrong = say(server, "approve ZZZZZ9", chat="flow-refusals").answer
    assert "Code `ZZZZZ9` cannot be used" in wrong and code in wrong
    assert refusal(code, user=BOB) == refusal("ZZZZZ9", user=BOB)
    assert refusal(code, chat="some-other-chat") == refusal("ZZZZZ9", chat="some-other-chat")
    expire(server, code)
    assert refusal(code) == refusal("ZZZZZ9")
    assert slack.posted == []

    used = propose_post(server, model, "flow-refusals-used")
    say(server, f"approve {used}", chat="flow-refusals-used")
    assert refusal(used, chat="flow-refusals-used") == refusal("ZZZZZ9", chat="flow-refusals-used")
    assert len(slack.posted) == 1


def test_wrong_codes_pause_approvals_in_that_chat(server, model, slack):
    code = propose_post(server, model, "flow-guessing")
    for guess in ("AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE"):
        say(server, f"approve {guess}", chat="flow-guessing")
    paused = say(server, f"approve {code}", chat="flow-guessing").answer
    assert "Too many wrong codes in this chat" in paused and "Nothing was run" in paused
    assert slack.posted == []
    refused = [e for e in audit_entries(server) if e["chat"] == "flow-guessing"][-1]
    assert refused["event"] == "approval_refused" and "paused" in refused["result"]
    assert f"Denied `{code}`" in say(server, "deny", chat="flow-guessing").answer


def test_turning_writes_off_cancels_codes_already_issued(server, model, cluster, slack):
    model.script(
        call("deployment_scale", namespace="web", name="nginx", replicas=3),
        Reply(content="Scaling is proposed."),
    )
    code = code_in(say(server, "scale nginx in web to 3", chat="flow-writes-off").answer)
    set_valves(server, allow_writes=False)
    denied = [e for e in audit_entries(server) if e.get("approval_code") == code][-1]
    assert (denied["event"], denied["result"]) == (
        "denied",
        "writes turned off (allow_writes valve)",
    )

    answer = say(server, f"approve {code}", chat="flow-writes-off").answer
    assert "Writes are turned off" in answer and "Nothing was run" in answer
    set_valves(server, allow_writes=True)
    assert "cannot be used" in say(server, f"approve {code}", chat="flow-writes-off").answer
    assert cluster.fake.patches == []


def test_deny_cancels_and_the_code_is_dead(server, model, slack):
    code = propose_post(server, model, "flow-deny")
    denied = say(server, f"deny {code}", chat="flow-deny").answer
    assert f"Denied `{code}`" in denied
    after = say(server, f"approve {code}", chat="flow-deny").answer
    assert "cannot be used" in after and "Nothing was run" in after
    code = propose_post(server, model, "flow-deny", text="second draft")
    assert "Denied" in say(server, "deny", chat="flow-deny").answer
    assert slack.posted == []


def test_codes_survive_a_server_restart(server, model, slack):
    code = propose_post(server, model, "flow-restart-server")
    server.restart()
    answer = say(server, f"approve {code}", chat="flow-restart-server").answer
    assert f"Approved `{code}`" in answer
    assert len(slack.posted) == 1


def test_read_only_server_refuses_writes(server, model, cluster, slack):
    # Proposed while the server could write; the operator then restarts it --read-only.
    model.script(
        call("deployment_scale", namespace="web", name="nginx", replicas=3),
        Reply(content="Scaling is proposed."),
    )
    code = code_in(say(server, "scale nginx in web to 3", chat="flow-read-only").answer)
    set_valves(server, mcp_servers=stdio_servers(cluster, slack, "--read-only"))
    answer = say(server, f"approve {code}", chat="flow-read-only").answer
    assert "failed" in answer and "read-only" in answer
    assert cluster.fake.patches == []

    # And a read-only server's writes are not even offered to the model.
    model.script(
        call("deployment_restart", namespace="web", name="nginx"),
        Reply(content="I cannot restart it."),
    )
    turn = say(server, "restart nginx in web", chat="flow-read-only-2")
    offered = {t["function"]["name"] for t in model.bodies("/api/chat")[-2]["tools"]}
    assert "deployment_restart" not in offered and "pods_list" in offered
    assert "Approval needed" not in turn.answer
    assert cluster.fake.patches == []


def test_audit_log_has_every_step_with_secrets_masked(server, model, slack):
    secret = "xoxb-" + "1234567890-abcdefghijkl"
    text = f"Page oncall@example.com, the DB token={secret}"
    code = propose_post(server, model, "flow-audit", text=text)
    say(server, f"approve {code}", chat="flow-audit")
    say(server, f"approve {code}", chat="flow-audit")
    entries = [e for e in audit_entries(server) if e["chat"] == "flow-audit"]
    assert [(e["event"], e["outcome"]) for e in entries] == [
        ("proposed", "pending"),
        ("approved", "ok"),
        ("approval_refused", "refused"),
    ]
    assert all(e["approval_code"] == code and e["tool"] == "post_message" for e in entries)
    assert all(e["server"] == "slack" and e["writes"] and e["user"] == "user-a" for e in entries)
    raw = "\n".join(str(e) for e in entries)
    assert secret not in raw and "oncall@example.com" not in raw
    assert "[EMAIL_1]" in entries[0]["arguments"]["text"]
    assert entries[1]["duration_ms"] is not None
    assert entries[2]["result"] == "already done"  # the real reason, for the operator only
    # Slack itself got the message as approved.
    assert slack.posted[0]["text"] == text


def test_without_chat_metadata_a_write_is_refused_not_proposed(server, model, slack):
    """A raw API call that skips the pipe's inlet has no chat id: nothing can be approved."""
    model.script(
        call("post_message", channel="#incidents", text="no chat id"),
        Reply(content="I could not propose it."),
    )
    body = {
        "model": "incident_agent",
        "stream": True,
        "user": {"id": "user-a"},
        "messages": [{"role": "user", "content": "tell the team"}],
    }
    with server.client(timeout_s=120) as client:
        response = client.post("/chat/completions", json=body)
        approve = client.post(
            "/chat/completions",
            json=body | {"messages": [{"role": "user", "content": "approve ABCDEF"}]},
        )
    assert "Approval needed" not in response.text
    tool_message = model.bodies("/api/chat")[-1]["messages"][-1]
    assert "no user and chat id" in tool_message["content"]
    assert "no user and chat id" in approve.text
    refused = [e for e in audit_entries(server) if e["event"] == "refused"]
    assert refused and refused[-1]["arguments"]["text"] == "no chat id"
    assert slack.posted == []
