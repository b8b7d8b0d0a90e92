"""Slack MCP server: read channels; post, reply and react only when allowed.

The bot token comes from `SLACK_BOT_TOKEN` in the server's environment — never from a tool
argument, so nothing the model writes can choose whose Slack it talks to. `SLACK_API_URL`
(or `--api-url`) points `slack_sdk` at another base URL, e.g. a fake in tests. Slack's error
codes (not_in_channel, channel_not_found, invalid_auth, ratelimited, …) come back as tool
errors that say what to do.
"""

from __future__ import annotations

import logging
import re
import urllib.error
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from pipekit import settings

from .budget import DEFAULT_BUDGET, Budget, fit
from .server import ToolServer

log = logging.getLogger(__name__)

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
# An agent must not page a whole workspace: broadcast mentions are posted as plain words.
_BROADCAST = re.compile(r"<!(channel|here|everyone)(\|[^>]*)?>")

Channel = Annotated[
    str, Field(description="Channel name (#incidents or incidents) or ID (C0123…).")
]
Text = Annotated[
    str, Field(min_length=1, max_length=4000, description="Message text (Slack mrkdwn).")
]

INSTRUCTIONS = (
    "Slack tools: channels_list and channel_history read; post_message, reply_in_thread and "
    "add_reaction write and need a human's approval."
)

_ERRORS = {
    "not_in_channel": "The bot is not a member of {channel}: invite it there (/invite @bot) "
    "or use another channel.",
    "channel_not_found": "Channel {channel} does not exist or the bot cannot see it "
    "(channels_list shows what it can see).",
    "is_archived": "Channel {channel} is archived: nothing can be posted there.",
    "invalid_auth": "Slack rejected the bot token ({error}): check SLACK_BOT_TOKEN on the MCP "
    "server.",
    "not_authed": "No Slack token was sent ({error}): set SLACK_BOT_TOKEN on the MCP server.",
    "token_revoked": "The Slack bot token was revoked ({error}): install the app again and "
    "update SLACK_BOT_TOKEN.",
    "account_inactive": "The Slack bot token belongs to a deactivated account ({error}).",
    "missing_scope": "The bot token lacks the OAuth scope {needed}: add it to the Slack app and "
    "reinstall.",
    "ratelimited": "Slack rate limit hit: wait {retry_after} s before calling Slack again.",
    "message_not_found": "No message with that timestamp in {channel} (take ts from "
    "channel_history).",
    "thread_not_found": "No thread with that thread_ts in {channel} (take ts from "
    "channel_history).",
    "already_reacted": "The bot already reacted with that emoji on this message.",
    "invalid_name": "Unknown emoji name: use a name such as eyes, white_check_mark or warning.",
    "msg_too_long": "The message is too long for Slack: shorten it.",
    "no_text": "The message is empty.",
    "restricted_action": "The workspace does not allow the bot to post in {channel}.",
}


class SlackTools:
    """The tools, as plain methods over one WebClient; `build_server` registers them."""

    def __init__(self, client: WebClient, *, budget: Budget = DEFAULT_BUDGET) -> None:
        self.client = client
        self.budget = budget
        self._ids: dict[str, str] = {}  # channel name -> ID
        self._names: dict[str, str] = {}  # ID -> name

    # --- plumbing -------------------------------------------------------------------------

    def _call(
        self, what: str, method: Callable[..., Any], label: str = "", /, **kwargs: Any
    ) -> Any:
        try:
            return method(**{k: v for k, v in kwargs.items() if v is not None})
        except SlackApiError as error:
            data = error.response.data if isinstance(error.response.data, dict) else {}
            code = data.get("error") or "unknown_error"
            template = _ERRORS.get(code, "Slack API error {error} while {what}.")
            headers = error.response.headers or {}
            retry_after = headers.get("Retry-After") or headers.get("retry-after") or "a few"
            raise ToolError(
                template.format(
                    channel=label or "that channel",
                    error=code,
                    what=what,
                    needed=data.get("needed", "(see the error)"),
                    retry_after=retry_after,
                )
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ToolError(
                f"Slack is not reachable at {self.client.base_url} while {what}: {reason}."
            ) from None

    def _channels(self, include_private: bool = True, limit: int = 1000) -> list[dict[str, Any]]:
        types = "public_channel,private_channel" if include_private else "public_channel"
        channels: list[dict[str, Any]] = []
        cursor = None
        while len(channels) < limit:
            page = self._call(
                "listing channels",
                self.client.conversations_list,
                types=types,
                exclude_archived=True,
                limit=min(200, limit),
                cursor=cursor,
            )
            channels.extend(page.get("channels") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        for c in channels:
            self._ids[c["name"]] = c["id"]
            self._names[c["id"]] = c["name"]
        return channels[:limit]

    def _resolve(self, channel: str) -> tuple[str, str]:
        """(ID, '#name') for a name or an ID."""
        channel = channel.strip()
        if _CHANNEL_ID.match(channel):
            return channel, f"#{self._names[channel]}" if channel in self._names else channel
        name = channel.lstrip("#")
        if name not in self._ids:
            self._channels()
        if name not in self._ids:
            raise ToolError(
                f"No channel #{name} is visible to the bot "
                "(channels_list shows the ones it can see)."
            )
        return self._ids[name], f"#{name}"

    # --- reads ----------------------------------------------------------------------------

    def channels_list(
        self,
        include_private: Annotated[
            bool, Field(description="Also private channels the bot is in.")
        ] = False,
        limit: Annotated[int, Field(ge=1, le=1000, description="Most channels to list.")] = 200,
    ) -> str:
        """List channels: name, ID, whether the bot is a member, member count and topic."""
        channels = self._channels(include_private, limit)
        if not channels:
            return "The bot sees no channels."
        lines = [
            f"#{c['name']} ({c['id']}) {'member' if c.get('is_member') else 'not a member'}"
            f", {c.get('num_members', '?')} people"
            + (f" — {topic}" if (topic := (c.get("topic") or {}).get("value")) else "")
            for c in channels
        ]
        return fit(lines, self.budget)

    def channel_history(
        self,
        channel: Channel,
        limit: Annotated[int, Field(ge=1, le=200, description="Newest messages to read.")] = 20,
    ) -> str:
        """Read a channel's newest messages, oldest first, with each ts (to reply or react)."""
        channel_id, label = self._resolve(channel)
        data = self._call(
            f"reading {label}",
            self.client.conversations_history,
            label,
            channel=channel_id,
            limit=limit,
        )
        messages = list(reversed(data.get("messages") or []))
        if not messages:
            return f"No messages in {label}."
        lines = [f"Newest {len(messages)} messages in {label}, oldest first:"]
        for m in messages:
            who = m.get("user") or m.get("username") or m.get("bot_id") or "?"
            replies = f" [thread, {m['reply_count']} replies]" if m.get("reply_count") else ""
            text = (m.get("text") or "").replace("\n", "\n    ")
            lines.append(f"ts={m.get('ts')} {who}{replies}: {text}")
        return fit(lines, self.budget, keep="tail", hint="Lower limit to read fewer messages.")

    # --- writes ---------------------------------------------------------------------------

    def post_message(self, channel: Channel, text: Text) -> str:
        """Post a message to a channel."""
        return self._post(channel, text)

    def reply_in_thread(
        self,
        channel: Channel,
        thread_ts: Annotated[str, Field(description="ts of the thread's first message.")],
        text: Text,
    ) -> str:
        """Reply in a message's thread."""
        return self._post(channel, text, thread_ts)

    def _post(self, channel: str, text: str, thread_ts: str | None = None) -> str:
        channel_id, label = self._resolve(channel)
        where = f"thread {thread_ts} in {label}" if thread_ts else label
        data = self._call(
            f"posting to {where}",
            self.client.chat_postMessage,
            label,
            channel=channel_id,
            text=_BROADCAST.sub(r"@\1", text),
            thread_ts=thread_ts,
        )
        log.info("posted a message to %s", where)
        return f"Posted to {where} (ts={data.get('ts')})."

    def add_reaction(
        self,
        channel: Channel,
        timestamp: Annotated[str, Field(description="ts of the message to react to.")],
        name: Annotated[str, Field(description="Emoji name without colons, e.g. eyes.")],
    ) -> str:
        """Add an emoji reaction to a message."""
        channel_id, label = self._resolve(channel)
        emoji = name.strip().strip(":")
        self._call(
            f"reacting in {label}",
            self.client.reactions_add,
            label,
            channel=channel_id,
            timestamp=timestamp,
            name=emoji,
        )
        return f"Reacted :{emoji}: to message {timestamp} in {label}."


# Posting is additive (nothing is overwritten or deleted), but it is seen by people at once.
POST = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)
REACT = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)


def web_client(token: str | None = None, api_url: str | None = None) -> WebClient:
    """A WebClient from SLACK_BOT_TOKEN (and SLACK_API_URL); raises when there is no token."""
    token = token or settings.slack_bot_token()
    if not token:
        raise RuntimeError(
            "SLACK_BOT_TOKEN is not set: the Slack MCP server needs a bot token (xoxb-…)."
        )
    base_url = api_url or settings.slack_api_url() or WebClient.BASE_URL
    return WebClient(token=token, base_url=base_url.rstrip("/") + "/", timeout=15)


def build_server(tools: SlackTools, *, read_only: bool = False, name: str = "slack") -> ToolServer:
    """The MCP server over these tools; with `read_only` the writes are hidden and refused."""
    server = ToolServer(name, read_only=read_only, instructions=INSTRUCTIONS)
    server.read(tools.channels_list)
    server.read(tools.channel_history)
    server.write(tools.post_message, POST)
    server.write(tools.reply_in_thread, POST)
    server.write(tools.add_reaction, REACT)
    return server
