"""Harmful-output filter: a guard model (Llama Guard 3 through Ollama) judges each answer.

Open WebUI ignores an outlet that fails, so blocking an answer means replacing its text with
a notice; Open WebUI then shows and saves the notice instead. The answer has already
streamed by then: the notice replaces it when the stream ends. The optional inlet check
judges the user's prompt before any answer is made, and can block it outright.

It applies to no model until its `pipelines` valve lists some (or '*'): every answer costs a
guard-model call, and the model must be pulled first.
"""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import Field

from pipekit.filter import Blocked, last_message
from pipekit.guards import metrics
from pipekit.guards.filters.base import BlockingFilter
from pipekit.guards.filters.context import (
    append_to_answer,
    fill,
    mark,
    set_answer,
    user_key,
)
from pipekit.guards.moderation import CATEGORIES, GuardModelValves, GuardVerdict, moderate
from pipekit.llm import text_of

log = logging.getLogger(__name__)

NAME = "harmful_output"


class HarmfulOutputFilter(BlockingFilter):
    class Valves(GuardModelValves, BlockingFilter.Valves):
        pipelines: list[str] = Field(
            default_factory=list,
            description="Pipelines (model ids) this filter applies to; '*' means all. Empty "
            "(the default): none, until a guard model is pulled (ollama pull llama-guard3:1b).",
        )
        action: Literal["block", "flag"] = Field(
            "block",
            description="'block': the answer is replaced by the notice. 'flag': the answer "
            "stays and flag_note is added under it.",
        )
        categories: list[str] = Field(
            default_factory=lambda: list(CATEGORIES),
            description="Llama Guard categories acted on (S1 Violent crimes, S2 Non-violent "
            "crimes, S3 Sex-related crimes, S4 Child sexual exploitation, S5 Defamation, S6 "
            "Specialized advice, S7 Privacy, S8 Intellectual property, S9 Indiscriminate "
            "weapons, S10 Hate, S11 Suicide and self-harm, S12 Sexual content, S13 Elections, "
            "S14 Code interpreter abuse). 'unsafe' with no category is always acted on.",
        )
        check_prompt: bool = Field(
            False,
            description="Also judge the user's prompt in the inlet and block an unsafe one "
            "before the model answers (one more guard call per message).",
        )
        notice: str = Field(
            "⚠️ This answer was withheld by the content-safety filter ({categories}).",
            description="Replaces a blocked answer, and is the message for a blocked prompt. "
            "{categories} is replaced by the categories found.",
        )
        flag_note: str = Field(
            "⚠️ The content-safety filter flagged this answer ({categories}).",
            description="Added under a flagged answer. {categories}: the categories found.",
        )

    def check_inlet(self, body: dict, user: dict) -> dict:
        text = text_of(last_message(body, "user"))
        if not self.valves.check_prompt or not text.strip():
            return body
        verdict = self._judge([{"role": "user", "content": text}], body, user, "prompt")
        if verdict is not None:
            metrics.record_guard_action(NAME, "blocked")
            raise Blocked(self._fill(self.valves.notice, verdict))
        return body

    def check_outlet(self, body: dict, user: dict) -> dict:
        answer = last_message(body, "assistant")
        text = text_of(answer)
        if answer is None or not text.strip():
            return body
        conversation = [{"role": "assistant", "content": text}]
        prompt = text_of(last_message(body, "user"))
        if prompt.strip():
            conversation.insert(0, {"role": "user", "content": prompt})
        verdict = self._judge(conversation, body, user, "answer")
        if verdict is None:
            return body
        if self.valves.action == "block":
            metrics.record_guard_action(NAME, "replaced")
            set_answer(answer, self._fill(self.valves.notice, verdict))
        else:
            metrics.record_guard_action(NAME, "flagged")
            mark(body, NAME, {"categories": list(verdict.categories), "action": "flag"})
            append_to_answer(answer, "\n\n" + self._fill(self.valves.flag_note, verdict))
        return body

    def _judge(
        self, conversation: list[dict[str, str]], body: dict, user: dict, what: str
    ) -> GuardVerdict | None:
        """The verdict to act on, or None when the text may pass."""
        verdict = moderate(self.valves, conversation)
        if verdict.error and verdict.safe:
            metrics.record_guard_action(NAME, "fail_open")
            return None
        wanted = {code.strip().upper() for code in self.valves.categories}
        if verdict.safe or (
            verdict.categories and not any(code in wanted for code in verdict.categories)
        ):
            return None
        log.warning(
            "harmful %s (%s) user=%s categories=%s",
            what,
            self.valves.action if what == "answer" else "block",
            user_key(body, user),
            ",".join(verdict.categories) or ("guard unavailable" if verdict.error else "none"),
        )
        return verdict

    @staticmethod
    def _fill(template: str, verdict: GuardVerdict) -> str:
        categories = verdict.names() or ("safety check unavailable" if verdict.error else "unsafe")
        return fill(template, categories=categories)
