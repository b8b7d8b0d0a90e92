"""
title: E2E Probe
description: Test-only pipe: a status line, two sources, and an echo with the chat id.
"""

from collections.abc import Iterator

from pipekit.pipe import BasePipe, ChatRequest, StreamItem, source, status


class Pipeline(BasePipe):
    """Uses pipekit's own event helpers, so the e2e test checks what Open WebUI renders."""

    def run(self, request: ChatRequest) -> Iterator[StreamItem]:
        yield status("Probing the sources")
        yield source("Probe Handbook", "The handbook says hello.")
        yield source("Probe FAQ", "The FAQ says hello too.")
        yield f"Probe echo: {request.user_message} [1] [2]\n\n"
        yield f"chat_id={request.chat_id or 'missing'}"
        yield status("Probe finished", done=True)
