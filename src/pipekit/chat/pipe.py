"""Plain model chat: a system prompt in front of the conversation, streamed back."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from pipekit.pipe import BasePipe, ChatRequest, StreamItem


class ChatPipe(BasePipe):
    class Valves(BasePipe.Valves):
        system_prompt: str = Field(
            "",
            description="Instructions put before the conversation, e.g. 'Answer in Korean.' "
            "Empty: none (a system prompt set in Open WebUI still applies).",
        )

    def run(self, request: ChatRequest) -> Iterator[StreamItem]:
        yield from self.stream_model_answer(
            with_system_prompt(request.messages, self.valves.system_prompt)
        )


def with_system_prompt(messages: list[dict], system_prompt: str) -> list[dict]:
    """Put the valve's system prompt first; one from Open WebUI follows it."""
    if not system_prompt.strip():
        return messages
    return [{"role": "system", "content": system_prompt.strip()}, *messages]
