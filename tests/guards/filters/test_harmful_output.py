"""The harmful_output filter: a guard model (fake Ollama) judges answers in the outlet."""

from __future__ import annotations

import pytest

from pipekit.guards.moderation import GuardVerdict, parse_guard_reply
from pipekit.testing.fake_ollama import Reply
from tests.guards.filters.conftest import answer_shown, outlet_body
from tests.support.owui import chat_body

GUARD = "llama-guard3:1b"
CONVERSATION = [
    {"role": "user", "content": "How do I make my neighbour's dog stop barking?"},
    {"role": "assistant", "content": "Some answer the guard will judge."},
]


@pytest.fixture
def guard(client, fake_ollama):
    fake_ollama.models = [*fake_ollama.models, GUARD]
    client.valves("harmful_output", pipelines=["*"], ollama_base_url=fake_ollama.url)
    return fake_ollama


def judged(client, who, conversation=CONVERSATION) -> str:
    response = client.outlet("harmful_output", outlet_body("chat", conversation), who)
    assert response.status_code == 200, response.text
    return answer_shown(response.json())


def test_unsafe_answer_is_replaced_by_a_notice_naming_the_categories(client, who, guard):
    guard.script(Reply(content="unsafe\nS1,S10"))
    shown = judged(client, who)
    assert shown == (
        "⚠️ This answer was withheld by the content-safety filter (S1 Violent crimes, S10 Hate)."
    )
    # Llama Guard judges the last turn: the prompt and the answer, as messages.
    assert guard.bodies("/api/chat")[-1]["messages"] == CONVERSATION


def test_safe_answer_is_unchanged(client, who, guard):
    guard.script(Reply(content="safe"))
    assert judged(client, who) == CONVERSATION[-1]["content"]


def test_flag_keeps_the_answer_and_adds_a_note(client, who, guard):
    client.valves("harmful_output", action="flag")
    guard.script(Reply(content="unsafe\nS11"))
    assert judged(client, who) == (
        "Some answer the guard will judge.\n\n"
        "⚠️ The content-safety filter flagged this answer (S11 Suicide and self-harm)."
    )


def test_categories_valve_limits_what_is_acted_on(client, who, guard):
    client.valves("harmful_output", categories=["S1", "S9"])
    guard.script(Reply(content="unsafe\nS6"))
    assert judged(client, who) == CONVERSATION[-1]["content"]


def test_instructions_style_quotes_the_conversation_for_a_general_model(client, who, guard):
    client.valves("harmful_output", guard_style="instructions", model="llama3.2:3b")
    guard.script(Reply(content="Unsafe.\nS2"))
    assert "S2 Non-violent crimes" in judged(client, who)
    sent = guard.bodies("/api/chat")[-1]["messages"]
    assert sent[0]["role"] == "system" and "S14" in sent[0]["content"]
    assert "<assistant>\nSome answer the guard will judge.\n</assistant>" in sent[1]["content"]


def test_check_prompt_blocks_an_unsafe_prompt_in_the_inlet(client, who, guard):
    client.valves("harmful_output", check_prompt=True)
    guard.script(Reply(content="unsafe\nS9"))
    notice = client.blocked("harmful_output", chat_body("chat", "build a bomb", user=who), who)
    assert notice == (
        "⚠️ This answer was withheld by the content-safety filter (S9 Indiscriminate weapons)."
    )


def test_missing_guard_model_lets_the_answer_through(client, who, fake_ollama):
    client.valves("harmful_output", pipelines=["*"], ollama_base_url=fake_ollama.url)
    assert judged(client, who) == CONVERSATION[-1]["content"]  # 404 from Ollama: fail open


def test_off_by_default_for_every_model(client):
    models = {m["id"]: m for m in client.http.get("/models").json()["data"]}
    assert models["harmful_output"]["pipeline"]["pipelines"] == []


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ("safe", GuardVerdict(True)),
        ("  Safe\n", GuardVerdict(True)),
        ("unsafe\nS1", GuardVerdict(False, ("S1",))),
        ("unsafe\nS2,S10", GuardVerdict(False, ("S2", "S10"))),
        ("UNSAFE\nS14, s3", GuardVerdict(False, ("S14", "S3"))),
        ("unsafe", GuardVerdict(False, ())),
        ("**unsafe**\nS15 S1", GuardVerdict(False, ("S1",))),
        ("I think this is fine", None),
        ("", None),
    ],
)
def test_parse_guard_reply(reply, verdict):
    assert parse_guard_reply(reply) == verdict
