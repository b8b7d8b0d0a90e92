"""Approval codes: who may run a pending action, where, until when, and how often."""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable

import pytest

from pipekit.incident.approvals import (
    CODE_ALPHABET,
    LOCKOUT_S,
    MAX_WRONG_CODES,
    ApprovalStore,
    Command,
    parse_command,
)
from pipekit.stores import Database

RESTART = {"namespace": "shop", "name": "checkout"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "postgresql"])
def new_store(request, tmp_path, clock) -> Callable[[], ApprovalStore]:
    """Stores on one backend, each with connections of its own as workers and replicas have:
    the embedded SQLite file, or the PostgreSQL database replicas share."""
    url = request.getfixturevalue("database_url") if request.param == "postgresql" else None
    return lambda: ApprovalStore(
        tmp_path / "incident", clock=clock, database=Database(url) if url else None
    )


@pytest.fixture
def store(new_store) -> ApprovalStore:
    return new_store()


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
    assert "cannot be used" in replay.refusal and "Nothing was run" in replay.refusal
    assert replay.reason == "already done"


def test_wrong_code_is_refused_and_lists_what_is_pending(store):
    action = propose(store)
    claim = store.claim("ZZZZZZ", "alice", "chat-1")
    assert not claim.granted
    assert "Code `ZZZZZZ` cannot be used" in claim.refusal
    assert f"Pending for you in this chat: `{action.code}`" in claim.refusal
    assert store.get(action.code).status == "pending"


def test_another_users_code_is_refused(store):
    action = propose(store, user="alice")
    claim = store.claim(action.code, "mallory", "chat-1")
    assert not claim.granted and claim.reason == "issued to another user"
    assert store.claim(action.code, "alice", "chat-1").granted


def test_code_from_another_chat_is_refused(store):
    action = propose(store, chat="chat-1")
    claim = store.claim(action.code, "alice", "chat-2")
    assert not claim.granted and claim.reason == "issued in another chat"
    assert store.get(action.code).status == "pending"


def test_expired_code_is_refused(store, clock):
    action = propose(store)
    clock.now += 601
    claim = store.claim(action.code, "alice", "chat-1")
    assert not claim.granted and claim.reason.startswith("expired at")
    assert store.pending("alice", "chat-1") == []


def spend(store, action):
    store.claim(action.code, "alice", "chat-1")
    store.finish(action.code, ok=True, outcome="done")


def deny(store, action):
    store.deny(action.code, "alice", "chat-1")


def expire(store, action):
    store.clock.now += 601


@pytest.mark.parametrize(
    ("who", "where", "before"),
    [
        ("mallory", "chat-1", None),  # another user's code
        ("alice", "chat-2", None),  # a code from another chat
        ("alice", "chat-1", expire),
        ("alice", "chat-1", spend),
        ("alice", "chat-1", deny),
    ],
)
def test_a_code_that_may_not_run_gets_the_answer_of_an_unknown_code(store, who, where, before):
    """The refusal never tells a guesser that a code exists, whose it is, or what became of it."""
    action = propose(store)
    if before:
        before(store, action)

    def refusals(code: str) -> tuple[str, str]:
        return store.claim(code, who, where).refusal, store.deny(code, who, where)[1]

    real, unknown = refusals(action.code), refusals("ZZZZZZ")
    assert all(real) and real == tuple(text.replace("ZZZZZZ", action.code) for text in unknown)


def test_wrong_codes_pause_approvals_in_that_chat_across_stores(new_store, clock):
    first, second = new_store(), new_store()
    action = propose(first)
    for attempt in range(MAX_WRONG_CODES):  # two workers sharing the file count together
        (first, second)[attempt % 2].claim(f"WRONG{attempt}", "alice", "chat-1")
    paused = second.claim(action.code, "alice", "chat-1")
    assert not paused.granted and "Too many wrong codes in this chat" in paused.refusal
    assert "paused" in paused.reason and first.get(action.code).status == "pending"
    elsewhere = propose(first, chat="chat-2")
    assert first.claim(elsewhere.code, "alice", "chat-2").granted
    clock.now += LOCKOUT_S
    again = propose(first, namespace="web", name="nginx")
    assert first.claim(again.code, "alice", "chat-1").granted


def test_deny_all_cancels_every_pending_action_of_every_chat(store):
    pending = [propose(store), propose(store, user="bob", chat="chat-2")]
    used = propose(store, namespace="web", name="nginx")
    spend(store, used)
    denied = store.deny_all("writes turned off")
    assert sorted(a.code for a in denied) == sorted(a.code for a in pending)
    assert all(store.get(a.code).status == "denied" for a in pending)
    assert store.get(used.code).status == "done"
    assert not store.claim(pending[0].code, "alice", "chat-1").granted


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_database_is_readable_by_its_owner_only(tmp_path):
    store = ApprovalStore(tmp_path / "new")
    assert mode(store.path) == 0o600
    # A file from an older version, or left by a looser umask, is tightened at start.
    for name in ("approvals.sqlite3", "approvals.sqlite3-wal", "approvals.sqlite3-shm"):
        (tmp_path / name).touch(mode=0o644)
        os.chmod(tmp_path / name, 0o644)
    ApprovalStore(tmp_path)
    assert [mode(p) for p in sorted(tmp_path.glob("approvals.sqlite3*"))] == [0o600] * 3


def test_codes_stay_out_of_the_log(store, caplog):
    caplog.set_level(logging.DEBUG)
    action = propose(store)
    store.claim("ZZZZZZ", "alice", "chat-1")
    store.claim(action.code, "alice", "chat-1")
    store.finish(action.code, ok=False, outcome="failed")
    assert caplog.records and action.code not in caplog.text


def test_deny_cancels_and_the_code_cannot_be_approved_after(store):
    action = propose(store)
    denied, refusal = store.deny(action.code, "alice", "chat-1")
    assert [a.code for a in denied] == [action.code] and refusal == ""
    claim = store.claim(action.code, "alice", "chat-1")
    assert not claim.granted and claim.reason == "already denied"


def test_bare_deny_cancels_everything_pending_for_this_user_here(store):
    mine = [propose(store), propose(store, namespace="shop", name="frontend")]
    other_chat = propose(store, chat="chat-2")
    denied, _ = store.deny(None, "alice", "chat-1")
    assert sorted(a.code for a in denied) == sorted(a.code for a in mine)
    assert store.get(other_chat.code).status == "pending"


def test_another_user_cannot_deny(store):
    action = propose(store, user="alice")
    denied, refusal = store.deny(action.code, "mallory", "chat-1")
    assert denied == [] and "cannot be used" in refusal
    assert store.get(action.code).status == "pending"


def test_codes_survive_a_new_store_on_the_same_database(new_store):
    action = propose(new_store())
    reopened = new_store()
    assert reopened.claim(action.code, "alice", "chat-1").granted


def test_racing_approvals_run_the_action_once(store, new_store):
    action = propose(store)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def approve(racer: ApprovalStore) -> None:
        barrier.wait()
        results.append(racer.claim(action.code, "alice", "chat-1").granted)

    threads = [threading.Thread(target=approve, args=(new_store(),)) for _ in range(8)]
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
    assert store.claim(recent.code, "alice", "chat-1").reason == "already done"
