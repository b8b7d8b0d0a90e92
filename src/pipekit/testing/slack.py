"""A fake Slack Web API on 127.0.0.1 for `slack_sdk.WebClient(base_url=fake.api_url)`.

It answers the methods pipekit's Slack MCP server calls (auth.test, conversations.list,
conversations.history, chat.postMessage, reactions.add) as Slack does — HTTP 200 with
`{"ok": false, "error": ...}` for not_in_channel, channel_not_found, invalid_auth, and 429
with Retry-After for ratelimited — and records every post and reaction in `posted` and
`reactions`.
"""

from __future__ import annotations

from typing import Any

from .http_fake import HTTPFake, Request, Response

TOKEN = "xoxb-test-token"


def _channel(
    cid: str, name: str, *, member: bool, private: bool = False, topic: str = ""
) -> dict[str, Any]:
    return {
        "id": cid,
        "name": name,
        "is_channel": not private,
        "is_private": private,
        "is_member": member,
        "is_archived": False,
        "num_members": 12,
        "topic": {"value": topic},
        "purpose": {"value": ""},
    }


class FakeSlack(HTTPFake):
    """Workspace with #incidents and #general (bot is a member) and #random (it is not)."""

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.channels = [
            _channel("C0INCIDENT", "incidents", member=True, topic="Production incidents"),
            _channel("C0GENERAL1", "general", member=True),
            _channel("C0RANDOM01", "random", member=False),
            _channel("G0PRIVATE1", "sre-private", member=True, private=True),
        ]
        self.history: dict[str, list[dict[str, Any]]] = {
            "C0INCIDENT": [
                {
                    "type": "message",
                    "user": "U0ALERTS",
                    "ts": "1717236000.000100",
                    "text": "[FIRING] KubePodCrashLooping shop/checkout",
                    "reply_count": 2,
                },
                {
                    "type": "message",
                    "user": "U0ALICE",
                    "ts": "1717236060.000200",
                    "text": "looking",
                },
            ]
        }
        self.posted: list[dict[str, Any]] = []
        self.reactions: list[dict[str, Any]] = []
        self.rate_limited = 0  # answer this many next calls with 429
        self._clock = 1717240000

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def handle(self, request: Request) -> Response:
        method = request["path"].removeprefix("/api/")
        if self.rate_limited:
            self.rate_limited -= 1
            return Response.json({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": "7"})
        if request["headers"].get("authorization") != f"Bearer {self.token}":
            return Response.json({"ok": False, "error": "invalid_auth"})
        args = self._arguments(request)
        handler = {
            "auth.test": self._auth_test,
            "conversations.list": self._conversations_list,
            "conversations.history": self._conversations_history,
            "chat.postMessage": self._post,
            "reactions.add": self._react,
        }.get(method)
        if handler is None:
            return Response.json({"ok": False, "error": "unknown_method"}, 404)
        return Response.json(handler(args))

    @staticmethod
    def _arguments(request: Request) -> dict[str, Any]:
        """Slack takes arguments in the query, a form or a JSON body."""
        body = request["body"]
        return request["query"] | (body if isinstance(body, dict) else {})

    def _find(self, ref: str) -> dict[str, Any] | None:
        ref = ref.lstrip("#")
        return next((c for c in self.channels if ref in (c["id"], c["name"])), None)

    def _member_of(self, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The channel the call names, or the error Slack gives when the bot is not in it."""
        channel = self._find(args.get("channel", ""))
        if channel is None:
            return {}, {"ok": False, "error": "channel_not_found"}
        if not channel["is_member"]:
            return channel, {"ok": False, "error": "not_in_channel"}
        return channel, None

    def _auth_test(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://acme.slack.com/",
            "team": "Acme",
            "user": "pipekit",
            "team_id": "T0ACME",
            "user_id": "U0PIPEKIT",
            "bot_id": "B0PIPEKIT",
        }

    def _conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        types = (args.get("types") or "public_channel").split(",")
        channels = [
            c
            for c in self.channels
            if ("private_channel" in types if c["is_private"] else "public_channel" in types)
        ]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, error = self._member_of(args)
        if error:
            return error
        messages = list(reversed(self.history.get(channel["id"], [])))  # newest first
        limit = int(args.get("limit") or 100)
        return {"ok": True, "messages": messages[:limit], "has_more": len(messages) > limit}

    def _post(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, error = self._member_of(args)
        if error:
            return error
        if not args.get("text"):
            return {"ok": False, "error": "no_text"}
        self._clock += 1
        message = {
            "type": "message",
            "user": "U0PIPEKIT",
            "bot_id": "B0PIPEKIT",
            "text": args["text"],
            "ts": f"{self._clock}.000100",
        }
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        else:
            self.history.setdefault(channel["id"], []).append(message)
        self.posted.append({"channel": channel["id"], **message})
        return {"ok": True, "channel": channel["id"], "ts": message["ts"], "message": message}

    def _react(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._find(args.get("channel", ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        known = {m["ts"] for m in self.history.get(channel["id"], [])}
        if args.get("timestamp") not in known:
            return {"ok": False, "error": "message_not_found"}
        reaction = {
            "channel": channel["id"],
            "timestamp": args["timestamp"],
            "name": args.get("name"),
        }
        if reaction in self.reactions:
            return {"ok": False, "error": "already_reacted"}
        self.reactions.append(reaction)
        return {"ok": True}
