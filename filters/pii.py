"""
title: PII Masking
author: pipekit
description: Masks personal data and secrets (Korean too) for the model; restores them in answers.
version: 0.1.0
license: Apache-2.0
"""

from pipekit.guards.filters.pii import PiiFilter


class Pipeline(PiiFilter):
    """Per-type toggles, restoring in the answer and leak masking are valves."""
