"""Fakes of outside services on 127.0.0.1, speaking their real wire protocols."""

from pipekit.testing.fake_base import Reply
from pipekit.testing.fake_ollama import FakeOllama
from pipekit.testing.fake_openai import FakeOpenAI

__all__ = ["FakeOllama", "FakeOpenAI", "Reply"]
