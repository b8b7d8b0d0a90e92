"""
title: ReAct Agent
author: pipekit
description: Reasons step by step with web search, calculator, time and MCP tools.
version: 0.1.0
license: Apache-2.0
"""

from pipekit.agents.pipe import ReactAgentPipe


class Pipeline(ReactAgentPipe):
    """All built-in tools plus MCP servers; the `react_mode` valve forces ReAct text prompts."""
