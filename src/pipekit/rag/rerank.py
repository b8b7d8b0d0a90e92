"""An optional reranker: a chat model reorders the best passages by relevance.

No cross-encoder ships offline, so the reranker is any model the deployment already serves
(e.g. qwen2.5:7b on Ollama). One short extra call per question; passages the model does not
mention keep their order after the ones it ranks, so reranking never drops a passage.
"""

from __future__ import annotations

import logging
import re

from pipekit.llm import ChatBackend, ChatOptions, LLMError, complete

from .answer import passages_as_context
from .search import Passage

log = logging.getLogger(__name__)

RERANK_PROMPT = (
    "Which passages help answer the question? Reply with their numbers only, the most useful "
    "first, as a JSON list such as [3, 1]. Leave out passages that do not help.\n\n"
    "Question: {question}\n\nPassages:\n{context}"
)


def rerank(backend: ChatBackend, passages: list[Passage], question: str) -> list[Passage]:
    if len(passages) < 2:
        return passages
    prompt = RERANK_PROMPT.format(question=question, context=passages_as_context(passages))
    options = ChatOptions(temperature=0.0, max_tokens=64)
    try:
        reply = complete(backend, [{"role": "user", "content": prompt}], options).text
    except LLMError as error:  # retrieval order is a fine answer when the reranker is down
        log.warning("reranking skipped: %s", error.kind)
        return passages
    ranked: list[int] = []
    for number in re.findall(r"\d+", reply):
        index = int(number) - 1
        if 0 <= index < len(passages) and index not in ranked:
            ranked.append(index)
    rest = [i for i in range(len(passages)) if i not in ranked]
    return [passages[i] for i in ranked + rest]
