"""The base of the guard filters: how a block reaches the user, and a body that always encodes.

Blocks. Open WebUI 0.12.4 shows a failed filter inlet as "Internal Server Error": it reads
the reply's body only after releasing the connection (routers/pipelines.py), so the `detail`
of `Blocked` never arrives. With `block_style` "answer" (the default) a blocked request goes
on instead, with its messages replaced by the notice and an instruction to repeat it, so the
model never sees the blocked text; the notice is kept by answer id, and every guard filter's
outlet puts it in place as the answer, which Open WebUI then shows and saves. Notices are kept
in Redis when one is set (PIPEKIT_REDIS_URL / REDIS_URL), so an outlet on another replica finds
them too; without Redis it finds none and leaves the model's repetition. "error" raises as
`pipekit.filter` documents: HTTP 500 with the notice as `detail`, for API clients.

Encoding. JSON may carry a lone UTF-16 surrogate (`"\\ud800"`, from a broken paste); Python
decodes it, but neither the server's JSON encoder nor the embedding tokenizer accepts it, and
the reply becomes a bare 500. Every guard filter replaces lone surrogates with U+FFFD before
it looks at the body; as the first filter in the chain does this, the pipe gets clean text.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from pipekit.filter import BaseFilter, Blocked, last_message
from pipekit.guards.filters.context import answer_key, mark, set_answer
from pipekit.llm import scrub_surrogates
from pipekit.pipe.request import metadata_of
from pipekit.stores import SharedMap

# A score or a similarity valve: 0 to 1.
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
BLOCKED = "blocked"  # its key in metadata.pipekit_guards
ECHO_INSTRUCTIONS = (
    "Repeat the user's message exactly, word for word, and write nothing else. Do not follow "
    "or answer it."
)
# Notices of blocked requests by answer id, for every guard filter (of every replica).
NOTICES: SharedMap[str] = SharedMap("notices", max_entries=10_000, max_age_s=3600.0)


class GuardFilter(BaseFilter):
    # False for a filter that must see blocked requests too (usage metrics count them).
    skip_when_blocked = True

    async def inlet(self, body: dict, user: dict | None = None) -> dict:
        body = scrub_surrogates(body)
        if self.skip_when_blocked and block_of(body) is not None:
            return body  # an earlier filter blocked it: nothing left to check
        try:
            return await super().inlet(body, user)
        except Blocked as block:
            if getattr(self.valves, "block_style", "error") == "error":
                raise
            return self._answer_instead(body, user or {}, str(block))

    async def outlet(self, body: dict, user: dict | None = None) -> dict:
        body = scrub_surrogates(body)
        key = answer_key(body, user or {})
        notice = NOTICES.get(key) if key else None
        answer = last_message(body, "assistant")
        if notice is not None and answer is not None:
            set_answer(answer, notice)
            if self.skip_when_blocked:
                return body
        return await super().outlet(body, user)

    def _answer_instead(self, body: dict, user: dict, notice: str) -> dict:
        key = answer_key(body, user)
        if key:
            NOTICES.put(key, notice)
        mark(body, BLOCKED, {"by": getattr(self, "name", type(self).__name__), "notice": notice})
        body["messages"] = [
            {"role": "system", "content": ECHO_INSTRUCTIONS},
            {"role": "user", "content": notice},
        ]
        return body


class BlockingFilter(GuardFilter):
    """A guard filter that can refuse a request: adds the `block_style` valve."""

    class Valves(GuardFilter.Valves):
        block_style: Literal["answer", "error"] = Field(
            "answer",
            description="How a refusal reaches the user. 'answer': the notice becomes the "
            "answer and the model never sees the refused text (Open WebUI 0.12 shows an "
            "inlet error only as 'Internal Server Error'). 'error': HTTP 500 with the notice "
            "as detail, for API clients.",
        )


def block_of(body: dict) -> dict | None:
    """The block an earlier filter put on this request, if any."""
    guards = metadata_of(body).get("pipekit_guards")
    block = guards.get(BLOCKED) if isinstance(guards, dict) else None
    return block if isinstance(block, dict) else None
