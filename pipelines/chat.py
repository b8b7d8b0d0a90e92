"""
title: Chat
author: pipekit
description: Plain model chat via Ollama or an OpenAI-compatible server (vLLM).
version: 0.1.0
license: Apache-2.0
"""

from pipekit.chat import ChatPipe


class Pipeline(ChatPipe):
    """System prompt, temperature, response length and backend are valves (ChatPipe.Valves)."""
