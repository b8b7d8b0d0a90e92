"""The fake Slack Web API lives in `pipekit.testing.slack` (the incident bench can use it
installed); tests keep importing it from here."""

from pipekit.testing.slack import TOKEN, FakeSlack

__all__ = ["TOKEN", "FakeSlack"]
