"""Plain model chat: the chat pipe (pipelines/chat.py is its thin script)."""

from .pipe import ChatPipe, with_system_prompt

__all__ = ["ChatPipe", "with_system_prompt"]
