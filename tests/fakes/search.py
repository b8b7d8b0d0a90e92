"""Fake SearXNG, Tavily and Brave servers and a fake web site on 127.0.0.1.

They live in `pipekit.testing.search` so `pipekit bench agent` can use them without the test
tree; this module is where tests import them from, like the other fakes.
"""

from pipekit.testing.search import (
    ARTICLE,
    DEFAULT_RESULTS,
    INJECTION,
    FakeHTTPService,
    FakeSearch,
    FakeWeb,
)

__all__ = ["ARTICLE", "DEFAULT_RESULTS", "INJECTION", "FakeHTTPService", "FakeSearch", "FakeWeb"]
