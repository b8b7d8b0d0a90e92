"""
title: Rate Limit
author: pipekit
description: Requests per minute and hour per user and model; in memory or in Redis.
version: 0.1.0
license: Apache-2.0
"""

from pipekit.guards.filters.rate_limit import RateLimitFilter


class Pipeline(RateLimitFilter):
    """Limits, per-model budgets, exempt roles, the Redis URL and the message are valves."""
