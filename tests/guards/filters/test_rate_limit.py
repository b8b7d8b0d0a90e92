"""The rate_limit filter: sliding windows in memory, and in a real Redis for replicas."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from pipekit.guards.ratelimit import MemoryLimiter, RedisLimiter, Window
from pipekit.testing.server import free_port
from tests.support.owui import chat_body


def send(client, who, model="chat"):
    """The notice the user reads, or None when the request may go on."""
    return client.blocked("rate_limit", chat_body(model, "hi", user=who), who)


def test_third_request_in_a_minute_is_refused_with_a_retry_time(client, who):
    client.valves("rate_limit", requests_per_minute=2)
    assert [send(client, who) for _ in range(2)] == [None, None]
    notice = send(client, who)
    match = re.fullmatch(
        r"⚠️ Rate limit reached: 2 requests per minute\. Try again in (\d+) s\.", notice
    )
    assert match and 55 <= int(match.group(1)) <= 60


def test_limits_are_per_user_and_per_model(client, who):
    client.valves("rate_limit", requests_per_minute=1)
    other = {**who, "id": who["id"] + "-2"}
    assert send(client, who) is None
    assert send(client, who) is not None
    assert send(client, other) is None
    assert send(client, who, model="llama3.2:3b") is None

    client.valves("rate_limit", per_model=False)  # one budget per user across models
    assert send(client, other, model="qwen2.5:7b") is None
    assert send(client, other, model="llama3.2:3b") is not None


def test_hourly_window_and_exempt_roles(client, who):
    client.valves("rate_limit", requests_per_minute=0, requests_per_hour=1, exempt_roles=["admin"])
    assert send(client, who) is None
    assert "1 requests per hour" in send(client, who)
    admin = {**who, "role": "admin"}
    assert [send(client, admin) for _ in range(3)] == [None, None, None]


def test_a_missing_user_is_counted_under_a_shared_key(client):
    client.valves("rate_limit", requests_per_minute=1, per_model=False, redis_prefix="anon-test")
    body = {"model": "anon-model", "messages": [{"role": "user", "content": "hi"}]}
    assert client.blocked("rate_limit", body, None) is None
    assert "Try again in" in client.blocked("rate_limit", {**body, "metadata": {}}, None)


def test_memory_window_slides():
    now = [0.0]
    limiter = MemoryLimiter(clock=lambda: now[0])
    window = [Window(60, 2, "minute")]
    decisions = []
    for at in (0, 10, 20, 60.5, 61):
        now[0] = at
        decisions.append(limiter.hit("k", window))
    assert [d.allowed for d in decisions] == [True, True, False, True, False]
    assert decisions[2].retry_after_s == 40  # the first request leaves the window at 60
    assert decisions[4].retry_after_s == 9


def test_redis_valve_shares_limits_between_replicas(client, who, redis_url):
    client.valves("rate_limit", requests_per_minute=3, redis_url=redis_url)
    # Another replica: its own client and connection, the same Redis keys.
    replica = RedisLimiter(redis_url)
    key = f"{who['id']}:chat"
    assert send(client, who) is None
    assert replica.hit(key, [Window(60, 3, "minute"), Window(3600, 300, "hour")]).allowed
    assert send(client, who) is None
    assert "3 requests per minute" in send(client, who)


def test_redis_script_is_atomic_under_concurrency(redis_url):
    limiter = RedisLimiter(redis_url, prefix="atomic")
    windows = [Window(60, 5, "minute")]
    with ThreadPoolExecutor(8) as pool:
        decisions = list(pool.map(lambda _: limiter.hit("burst", windows), range(40)))
    assert sum(d.allowed for d in decisions) == 5
    assert all(1 <= d.retry_after_s <= 60 for d in decisions if not d.allowed)


def test_redis_window_slides(redis_url):
    limiter = RedisLimiter(redis_url, prefix="slide")
    window = [Window(1, 2, "second")]
    assert [limiter.hit("k", window).allowed for _ in range(3)] == [True, True, False]
    time.sleep(1.05)
    assert limiter.hit("k", window).allowed


def test_unreachable_redis_falls_back_to_memory(client, who):
    client.valves(
        "rate_limit", requests_per_minute=1, redis_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    assert send(client, who) is None
    assert "Try again in" in send(client, who)


@pytest.mark.parametrize("url", ["not a url", "redis://:secret@127.0.0.1:1/0"])
def test_bad_redis_urls_never_crash_or_leak_the_password(client, who, url, guard_server):
    client.valves("rate_limit", redis_url=url)
    assert send(client, who) is None
    assert "secret" not in guard_server.log()
