"""
title: Harmful Output Guard
author: pipekit
description: Withholds or flags unsafe answers, judged by a guard model (Llama Guard 3) via Ollama.
version: 0.1.0
license: Apache-2.0
"""

from pipekit.guards.filters.harmful_output import HarmfulOutputFilter


class Pipeline(HarmfulOutputFilter):
    """Guard model, categories, action (block or flag) and the notice are valves."""
