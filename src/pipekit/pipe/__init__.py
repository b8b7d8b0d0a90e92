"""The pipe base, the request a pipe answers, and the events it can stream."""

from .base import BasePipe, StreamItem
from .events import source, status
from .request import METADATA_KEY, ChatRequest

__all__ = ["METADATA_KEY", "BasePipe", "ChatRequest", "StreamItem", "source", "status"]
