"""
title: Incident Agent
author: pipekit
description: Finds why a Kubernetes/OpenShift workload fails; runs fixes only after you approve.
version: 0.1.0
license: Apache-2.0
"""

from pipekit.incident import IncidentPipe


class Pipeline(IncidentPipe):
    """MCP servers, runbook collections, Slack channel, approval expiry and limits are valves."""
