"""The topic_guard filter: keywords (Korean too) and meaning, with the admin's message."""

from __future__ import annotations

from tests.support.owui import chat_body

POLITICS = "politics | Who should I vote for? | What do you think of this political party?"
KUBERNETES = (
    "Kubernetes | Why is my pod crashing? | How do I deploy or scale an application on the cluster?"
)


def ask(client, who, text):
    """The notice the user reads, or None when the message passes."""
    return client.blocked("topic_guard", chat_body("chat", text, user=who), who)


def test_nothing_configured_lets_everything_through(client, who):
    assert ask(client, who, "Who should I vote for in the next election?") is None


def test_blocked_keywords_match_words_prefixes_and_korean(client, who):
    client.valves("topic_guard", blocked_keywords=["vote", "elect*", "선거"])
    for text in ("Should I VOTE yes?", "The election is close", "이번 선거에서 누구를 뽑을까요?"):
        assert ask(client, who, text).startswith("⚠️ Sorry, I can't help with that topic"), text
    assert ask(client, who, "I am devoted to my work") is None


def test_blocked_topic_by_meaning_with_the_configured_message(client, who):
    client.valves(
        "topic_guard", blocked_topics=[POLITICS], blocked_message="No {topic} here, sorry."
    )
    notice = ask(client, who, "Which presidential candidate deserves my support?")
    assert notice == "No politics here, sorry."
    assert ask(client, who, "My pod is stuck in CrashLoopBackOff") is None


def test_allowed_topics_keep_the_chat_on_topic(client, who):
    client.valves("topic_guard", allowed_topics=[KUBERNETES], allowed_keywords=["oc", "503"])
    assert ask(client, who, "My pod is stuck in CrashLoopBackOff, what should I check?") is None
    assert ask(client, who, "oc get pods shows ImagePullBackOff for the api") is None
    off = ask(client, who, "How do I make a fluffy pancake for breakfast?")
    assert off == "⚠️ Sorry, I can only help with: Kubernetes, oc, 503."
    assert ask(client, who, "thanks, that worked") is None  # shorter than min_words


def test_keywords_only_when_embeddings_are_off(client, who):
    client.valves("topic_guard", blocked_topics=[POLITICS], use_embeddings=False)
    assert ask(client, who, "Who should I vote for?") is None
