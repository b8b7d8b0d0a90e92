"""
title: Real Model Chat
description: Test-only: the chat pipe, which the real-model e2e test points at llama.cpp.
"""

from pipekit.chat import ChatPipe


class Pipeline(ChatPipe):
    """tests/e2e/test_real_model_e2e.py sets its valves: the `openai` backend, the server."""
