"""
title: Usage Metrics
author: pipekit
description: Counts requests, latency and tokens per user and model, exported as Prometheus metrics.
version: 0.1.0
license: Apache-2.0
"""

from pipekit.guards.filters.usage_metrics import UsageMetricsFilter


class Pipeline(UsageMetricsFilter):
    """The metrics port, its address and the user label are valves."""
