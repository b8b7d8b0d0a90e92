"""Approval codes: who may run a pending action, where, until when, and how often."""

from __future__ import annotations

import threading

import pytest

from pipekit.incident.approvals import CODE_ALPHABET, ApprovalStore, Command, parse_command

RESTART = {"namespace": "shop", "name": "checkout"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path, clock) -> ApprovalStore:
    return ApprovalStore(tmp_path / "incident", clock=clock)


def propose(store: ApprovalStore, user: str = "alice", chat: str = "chat-1", **arguments):
    return store.propose(
        tool="deployment_restart",
        server="openshift",
        remote_tool="deployment_restart",
        arguments=arguments or RESTART,
        user_id=user,
        chat_id=chat,
        ttl_s=600,
    )


def test_code_is_short_and_unambiguous(store):
    code = propose(store).code
    assert len(code) == 6
    assert set(code) <= set(CODE_ALPHABET)
    assert not set(code) & set("0O1IL")


def test_same_action_pending_in_the_same_chat_keeps_its_code(store):
    assert propose(store).code == propose(store).code
    assert propose(store).code != propose(store, name="frontend", namespace="shop").code


def test_approve_runs_once_then_the_code_is_spent(store):
    action = propose(store)
    first = store.claim(action.code.lower(), "alice", "chat-1")
    assert first.granted and first.action.arguments == RESTART
    store.finish(action.code, ok=True, outcome="Restarted")
    replay = store.claim(action.code, "alice", "chat-1")
    assert not replay.granted
    assert "already used" in replay.refusal and "Nothing was run" in replay.refusal


def test_wrong_code_is_refused_and_lists_what_is_pending(store):
    action = propose(store)
    claim = store.claim("ZZZZZZ", "alice", "chat-1")
    assert not claim.granted
    assert "No pending action has the code `ZZZZZZ`" in claim.refusal
    assert action.code in claim.refusal
    assert store.get(action.code).status == "pending"


def test_another_users_code_is_refused(store):
    action = propose(store, user="alice")
    claim = store.claim(action.code, "mallory", "chat-1")
    assert not claim.granted and "another user" in claim.refusal
    assert store.claim(action.code, "alice", "chat-1").granted


def test_code_from_another_chat_is_refused(store):
    action = propose(store, chat="chat-1")
    claim = store.claim(action.code, "alice", "chat-2")
    assert not claim.granted and "another chat" in claim.refusal
    assert store.get(action.code).status == "pending"


def test_expired_code_is_refused(store, clock):
    action = propose(store)
    clock.now += 601
    claim = store.claim(action.code, "alice", "chat-1")
    assert not claim.granted and "expired" in claim.refusal
    assert store.pending("alice", "chat-1") == []


def test_deny_cancels_and_the_code_cannot_be_approved_after(store):
    action = propose(store)
    denied, refusal = store.deny(action.code, "alice", "chat-1")
    assert [a.code for a in denied] == [action.code] and refusal == ""
    claim = store.claim(action.code, "alice", "chat-1")
    assert not claim.granted and "denied" in claim.refusal


def test_bare_deny_cancels_everything_pending_for_this_user_here(store):
    mine = [propose(store), propose(store, namespace="shop", name="frontend")]
    other_chat = propose(store, chat="chat-2")
    denied, _ = store.deny(None, "alice", "chat-1")
    assert sorted(a.code for a in denied) == sorted(a.code for a in mine)
    assert store.get(other_chat.code).status == "pending"


def test_another_user_cannot_deny(store):
    action = propose(store, user="alice")
    denied, refusal = store.deny(action.code, "mallory", "chat-1")
    assert denied == [] and "another user" in refusal
    assert store.get(action.code).status == "pending"


def test_codes_survive_a_new_store_on_the_same_folder(tmp_path, clock):
    action = propose(ApprovalStore(tmp_path, clock=clock))
    reopened = ApprovalStore(tmp_path, clock=clock)
    assert reopened.claim(action.code, "alice", "chat-1").granted


def test_racing_approvals_run_the_action_once(store):
    action = propose(store)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def approve() -> None:
        barrier.wait()
        results.append(store.claim(action.code, "alice", "chat-1").granted)

    threads = [threading.Thread(target=approve) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("approve K7M2QX", Command("approve", "K7M2QX")),
        ("  Approve k7m2qx. ", Command("approve", "K7M2QX")),
        ("approve `K7M2QX`", Command("approve", "K7M2QX")),
        ("deny", Command("deny", None)),
        ("DENY K7M2QX", Command("deny", "K7M2QX")),
        ("approve", Command("approve", None)),
        ("please approve K7M2QX and restart it", None),
        ("why did checkout crash?", None),
    ],
)
def test_only_a_whole_message_is_a_decision(text, expected):
    assert parse_command(text) == expected


def test_month_old_codes_are_pruned_but_recent_ones_still_say_used(store, clock):
    old = propose(store)
    clock.now += 31 * 86_400
    recent = propose(store, namespace="web", name="nginx")
    assert store.claim(recent.code, "alice", "chat-1").granted
    store.finish(recent.code, ok=True, outcome="done")
    assert store.get(old.code) is None
    assert "already used" in store.claim(recent.code, "alice", "chat-1").refusal
