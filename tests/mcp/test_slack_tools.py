"""The Slack tools against the fake Slack Web API, through slack_sdk's WebClient."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from pipekit.mcp.slack import SlackTools, build_server, web_client
from pipekit.testing.slack import TOKEN, FakeSlack

THREAD = "1717236000.000100"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def tools(fake: FakeSlack) -> SlackTools:
    return SlackTools(web_client(TOKEN, fake.api_url))


def test_channels_and_history(tools):
    channels = tools.channels_list()
    assert (
        "#incidents (C0INCIDENT) member" in channels
        and "#random (C0RANDOM01) not a member" in channels
    )
    assert "sre-private" not in channels
    assert "sre-private" in tools.channels_list(include_private=True)
    history = tools.channel_history("#incidents", limit=5)
    assert f"ts={THREAD} U0ALERTS [thread, 2 replies]: [FIRING] KubePodCrashLooping" in history


def test_post_reply_and_react_are_recorded(tools, fake):
    assert tools.post_message("incidents", "checkout is down").startswith(
        "Posted to #incidents (ts="
    )
    tools.reply_in_thread("C0INCIDENT", THREAD, "Root cause: DATABASE_URL is missing")
    assert (
        tools.add_reaction("#incidents", THREAD, ":eyes:")
        == f"Reacted :eyes: to message {THREAD} in #incidents."
    )
    assert [(p["channel"], p["text"], p.get("thread_ts")) for p in fake.posted] == [
        ("C0INCIDENT", "checkout is down", None),
        ("C0INCIDENT", "Root cause: DATABASE_URL is missing", THREAD),
    ]
    assert fake.reactions == [{"channel": "C0INCIDENT", "timestamp": THREAD, "name": "eyes"}]


def test_broadcast_mentions_are_posted_as_plain_words(tools, fake):
    tools.post_message("#incidents", "<!channel> checkout is down, <!here|here>")
    assert fake.posted[-1]["text"] == "@channel checkout is down, @here"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.post_message("random", "hi"), "not a member of #random: invite it"),
        (lambda t: t.post_message("C0GONE12345", "hi"), "Channel C0GONE12345 does not exist"),
        (lambda t: t.post_message("nowhere", "hi"), "No channel #nowhere is visible"),
        (lambda t: t.add_reaction("incidents", "1.2", "eyes"), "No message with that timestamp"),
    ],
)
def test_slack_errors_become_readable_messages(tools, call, message):
    with pytest.raises(ToolError, match=message):
        call(tools)


def test_bad_token_and_rate_limit(fake, tools):
    with pytest.raises(
        ToolError, match=r"rejected the bot token \(invalid_auth\): check SLACK_BOT_TOKEN"
    ):
        SlackTools(web_client("xoxb-wrong", fake.api_url)).channels_list()
    fake.rate_limited = 1
    with pytest.raises(ToolError, match="rate limit hit: wait 7 s"):
        tools.channels_list()


def test_token_comes_from_the_environment_only(monkeypatch, fake):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    with pytest.raises(RuntimeError, match="SLACK_BOT_TOKEN is not set"):
        web_client(api_url=fake.api_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)
    assert "#incidents" in SlackTools(web_client()).channels_list()


async def test_no_tool_takes_a_token_and_writes_are_annotated(tools):
    listed = {t.name: t for t in await build_server(tools).list_tools()}
    for tool in listed.values():
        assert not any("token" in p for p in tool.input_schema.get("properties", {}))
    assert listed["channels_list"].annotations.read_only_hint is True
    assert listed["post_message"].annotations.read_only_hint is False
    read_only = {t.name for t in await build_server(tools, read_only=True).list_tools()}
    assert read_only == {"channels_list", "channel_history"}
