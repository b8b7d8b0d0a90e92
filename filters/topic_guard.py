"""
title: Topic Guard
author: pipekit
description: Refuses blocked topics, keeps chats to allowed ones (keywords or meaning).
version: 0.1.0
license: Apache-2.0
"""

from pipekit.guards.filters.topic_guard import TopicGuardFilter


class Pipeline(TopicGuardFilter):
    """Blocked and allowed keywords and topics, thresholds and messages are valves."""
