"""
title: Prompt Injection Guard
author: pipekit
description: Blocks or flags prompt injection (Korean too); optional guard model via Ollama.
version: 0.1.0
license: Apache-2.0
"""

from pipekit.guards.filters.prompt_injection import PromptInjectionFilter


class Pipeline(PromptInjectionFilter):
    """Action (block or flag), threshold and the optional guard model are valves."""
