"""The base every pipekit pipe stands on.

It keeps the pipelines server's contract in one place: `pipe()` is synchronous and returns
a real generator (or a string when the request is not streamed); background tasks get a
cheap plain-model answer; every failure becomes a message the user reads in the chat.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

from pipekit.llm import (
    ChatBackend,
    ChatOptions,
    LLMError,
    chat_backend,
    complete,
    stream_text,
    text_of,
)
from pipekit.stores import StoreUnavailable
from pipekit.valves import ModelValves

from .request import ChatRequest, capture_metadata
from .tasks import tidy_task_answer

log = logging.getLogger(__name__)

StreamItem = str | dict[str, Any]

# Background tasks want a short, deterministic answer (a title, a JSON list of tags).
_TASK_MAX_TOKENS = 256
_TASK_TEMPERATURE = 0.2


class BasePipe:
    """Subclass it, nest a `Valves(BasePipe.Valves)`, and implement `run()`."""

    class Valves(ModelValves):
        pass

    def __init__(self) -> None:
        title = front_matter_title(type(self))
        if title:  # else the server shows the file name, which beats "Pipeline"
            self.name = title
        self.valves = self.Valves()

    async def on_startup(self) -> None:
        """Override for start-up work; a failure here is reported and only this pipe is skipped."""

    async def on_shutdown(self) -> None:
        """Override to release resources."""

    async def inlet(self, body: dict, user: dict | None = None) -> dict:
        return capture_metadata(body, user)

    def pipe(
        self, user_message: str, model_id: str, messages: list[dict], body: dict
    ) -> str | Iterator[StreamItem]:
        request = ChatRequest.from_pipe_call(model_id, messages, body)
        if request.task:
            return self.answer_background_task(request)
        if not request.stream:
            return "".join(item for item in self.guarded_run(request) if isinstance(item, str))
        return self.guarded_run(request)

    def run(self, request: ChatRequest) -> Iterator[StreamItem]:
        """Yield answer text and event dicts (see pipekit.pipe.events)."""
        raise NotImplementedError

    def guarded_run(self, request: ChatRequest) -> Iterator[StreamItem]:
        """`run()`, with every failure turned into text the user reads: never an empty reply."""
        wrote_text = False
        try:
            for item in self.run(request):
                if isinstance(item, str):
                    if not item:
                        continue
                    wrote_text = True
                yield item
        except LLMError as error:
            yield ("\n\n" if wrote_text else "") + error.user_message
            return
        except StoreUnavailable as error:  # the database is down: say which, not a traceback
            yield f"{chr(10) * 2 if wrote_text else ''}⚠️ {error}"
            return
        except Exception as error:
            name = getattr(self, "name", type(self).__module__)
            log.exception("pipe %s failed", name)
            yield (
                f"{chr(10) * 2 if wrote_text else ''}⚠️ The {name} pipeline failed: "
                f"{type(error).__name__}: {error}. The pipelines server log has the details."
            )
            return
        if not wrote_text:
            model = self.valves.llm_config().model
            yield f"⚠️ The model `{model}` returned an empty answer. Try again or rephrase."

    def answer_background_task(self, request: ChatRequest) -> str:
        """Titles, tags, follow-ups: the plain model, short and cheap, never RAG or agents."""
        options = self.valves.chat_options()
        options = ChatOptions(
            temperature=_TASK_TEMPERATURE,
            max_tokens=min(options.max_tokens or _TASK_MAX_TOKENS, _TASK_MAX_TOKENS),
            context_length=options.context_length,
        )
        try:
            answer = complete(self.backend(), request.messages, options).text
        except LLMError as error:
            # A chat title must not become an error message; the log says what went wrong.
            log.warning("background task %s not answered: %s", request.task, error.kind)
            return ""
        prompt = text_of(request.messages[-1].get("content")) if request.messages else ""
        return tidy_task_answer(prompt, answer)

    def backend(self) -> ChatBackend:
        return chat_backend(self.valves.llm_config())

    def stream_model_answer(self, messages: list[dict]) -> Iterator[str]:
        return stream_text(self.backend(), messages, self.valves.chat_options())


def front_matter_title(cls: type) -> str | None:
    """The `title:` line of the pipeline file's front-matter: written once, shown as the name."""
    module = sys.modules.get(cls.__module__)
    match = re.search(r"^\s*title:\s*(.+)$", (module.__doc__ or "") if module else "", re.M)
    return match.group(1).strip() if match else None
