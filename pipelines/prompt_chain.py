"""
title: Research Chain
author: pipekit
description: Plans web searches, runs them, and answers from the results with citations.
version: 0.1.0
license: Apache-2.0
"""

from pipekit.agents.chain import PromptChainPipe


class Pipeline(PromptChainPipe):
    """Questions that need no web facts are routed straight to a plain answer."""
