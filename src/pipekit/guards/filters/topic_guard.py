"""Topic filter: refuse blocked topics, and (if any are listed) anything off the allowed ones."""

from __future__ import annotations

import logging

from pydantic import Field

from pipekit.filter import Blocked, last_message
from pipekit.guards import metrics
from pipekit.guards.filters.base import BlockingFilter, Fraction
from pipekit.guards.filters.context import fill, user_key
from pipekit.guards.topics import keyword_match, parse_topics, similarity_match
from pipekit.llm import text_of

log = logging.getLogger(__name__)

NAME = "topic_guard"
TOPIC_HELP = (
    " One topic per entry: its name, then example questions, separated by | (e.g. 'politics | "
    "Who should I vote for? | What do you think of this party?'). Matched by meaning with an "
    "offline English embedding model."
)


class TopicGuardFilter(BlockingFilter):
    class Valves(BlockingFilter.Valves):
        priority: int = Field(-5, description="Filters run in ascending priority order.")
        blocked_keywords: list[str] = Field(
            default_factory=list,
            description="Messages containing any of these are refused. Case-insensitive; "
            "English words match whole words ('elect*' matches a prefix), Korean and other "
            "scripts match anywhere ('선거' matches '선거에서').",
        )
        blocked_topics: list[str] = Field(
            default_factory=list, description="Topics that are refused." + TOPIC_HELP
        )
        allowed_keywords: list[str] = Field(
            default_factory=list,
            description="If any allowed keyword or topic is set, a message must match one of "
            "them (or be shorter than min_words) to pass. Matched like blocked_keywords.",
        )
        allowed_topics: list[str] = Field(
            default_factory=list, description="Topics that are allowed." + TOPIC_HELP
        )
        use_embeddings: bool = Field(
            True, description="Match topics by meaning. Off: only keywords are used."
        )
        block_similarity: Fraction = Field(
            0.45,
            description="Similarity (cosine, 0-1) from which a message is about a blocked "
            "topic. Lower refuses more.",
        )
        allow_similarity: Fraction = Field(
            0.35,
            description="Similarity from which a message is about an allowed topic. Higher "
            "refuses more.",
        )
        min_words: int = Field(
            4,
            ge=0,
            le=100,
            description="Shorter messages ('thanks', 'why?') skip the allowed check.",
        )
        blocked_message: str = Field(
            "⚠️ Sorry, I can't help with that topic ({topic}).",
            description="What the user reads for a blocked topic. {topic}: the topic or "
            "keyword matched.",
        )
        off_topic_message: str = Field(
            "⚠️ Sorry, I can only help with: {allowed}.",
            description="What the user reads when a message matches no allowed topic. "
            "{allowed}: the allowed topic names and keywords.",
        )

    def check_inlet(self, body: dict, user: dict) -> dict:
        text = text_of(last_message(body, "user"))
        if not text.strip():
            return body
        valves = self.valves
        blocked = keyword_match(text, valves.blocked_keywords)
        if blocked is None and valves.use_embeddings:
            blocked = similarity_match(
                text, parse_topics(valves.blocked_topics), valves.block_similarity
            )
        if blocked is not None:
            self._refuse(body, user, blocked.topic, blocked.how, blocked.score)
            raise Blocked(fill(valves.blocked_message, topic=blocked.topic))
        allowed_names = [t.name for t in parse_topics(valves.allowed_topics)]
        allowed_names += [k.strip() for k in valves.allowed_keywords if k.strip()]
        if not allowed_names or len(text.split()) < valves.min_words:
            return body
        if keyword_match(text, valves.allowed_keywords):
            return body
        if valves.use_embeddings and similarity_match(
            text, parse_topics(valves.allowed_topics), valves.allow_similarity
        ):
            return body
        self._refuse(body, user, "off-topic", "allowed", 0.0)
        raise Blocked(fill(valves.off_topic_message, allowed=", ".join(allowed_names)))

    @staticmethod
    def _refuse(body: dict, user: dict, topic: str, how: str, score: float) -> None:
        # The topic is the admin's own label, never the user's text.
        log.info(
            "topic refused topic=%s by=%s score=%.2f user=%s",
            topic,
            how,
            score,
            user_key(body, user),
        )
        metrics.record_guard_action(NAME, "blocked")
