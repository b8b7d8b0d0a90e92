"""Short-lived state in Redis, shared by replicas; in this process while Redis is away."""

from __future__ import annotations

import time

import pytest

from pipekit.guards.filters.pii import PiiFilter
from pipekit.stores import SharedMap
from pipekit.testing.server import free_port
from tests.guards.filters.conftest import answer_shown, outlet_body
from tests.support.owui import USER, chat_body


@pytest.fixture
def shared_redis(redis_url, monkeypatch) -> str:
    monkeypatch.setenv("PIPEKIT_REDIS_URL", redis_url)
    return redis_url


def test_what_one_replica_puts_another_reads_and_pop_takes_it_for_both(shared_redis):
    first, second = SharedMap("test-notes", 10, 60), SharedMap("test-notes", 10, 60)
    first.put("chat-1", {"[EMAIL_1]": "kim@example.com"})
    assert second.get("chat-1") == {"[EMAIL_1]": "kim@example.com"}
    assert len(first) == 0  # nothing kept in the process
    assert second.pop("chat-1") == {"[EMAIL_1]": "kim@example.com"}
    assert first.get("chat-1") is None


def test_entries_expire_with_the_maps_age_limit(shared_redis):
    notes = SharedMap("test-expiry", 10, 1)
    notes.put("k", "v")
    time.sleep(1.6)
    assert notes.get("k") is None


def test_without_redis_a_map_keeps_entries_in_this_process(monkeypatch):
    monkeypatch.setenv("PIPEKIT_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nobody there
    notes = SharedMap("test-down", 10, 60)
    notes.put("k", "v")
    assert notes.get("k") == "v" and len(notes) == 1
    assert notes.pop("k") == "v" and notes.get("k") is None


async def test_a_pii_table_made_on_one_replica_is_restored_by_another(shared_redis):
    inlet_replica, outlet_replica = PiiFilter(), PiiFilter()
    sent = await inlet_replica.inlet(
        chat_body("chat", "Mail kim@example.com", chat_id="pii-shared"), USER
    )
    assert sent["messages"][-1]["content"] == "Mail [EMAIL_1]"
    answer = [{"role": "user", "content": "Mail kim@example.com"},
              {"role": "assistant", "content": "I will write to [EMAIL_1]."}]  # fmt: skip
    shown = await outlet_replica.outlet(
        outlet_body("chat", answer, chat_id="pii-shared", message_id="pii-shared-answer"), USER
    )
    assert answer_shown(shown) == "I will write to kim@example.com."
