"""Each bundled pipe answers a real model's words: streamed and not, through `pipekit serve`
and the `openai` backend, with no error, no empty reply and no leaked template token."""

from __future__ import annotations

import json

import pytest

from tests.support.owui import answer_text, events

from .conftest import PIPES, TEMPLATE_TOKENS, RealWorld

QUESTIONS = {
    "chat": "What is the capital of France?",
    "rag": "How do I restart a deployment?",
    "prompt_chain": "Why is the sky blue?",
    "web_search_agent": "What is new in Python 3.13?",
    "react_agent": "What is 17 times 23?",
    "incident_agent": "Why would a pod be in CrashLoopBackOff?",
}


def assert_clean(answer: str) -> None:
    assert answer.strip(), "empty reply"
    leaked = [token for token in TEMPLATE_TOKENS if token in answer]
    assert not leaked, f"template tokens leaked: {leaked}\n{answer}"
    assert "pipeline failed" not in answer, answer
    assert "returned an empty answer" not in answer, answer
    assert "not reachable" not in answer and "did not answer within" not in answer, answer


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
@pytest.mark.parametrize("pipe", list(PIPES))
def test_every_pipe_answers_a_real_question(world: RealWorld, pipe: str, stream: bool):
    response = world.chat(pipe, QUESTIONS[pipe], stream=stream, chat_id=f"{pipe}-{stream}")
    assert_clean(answer_text(response))


def test_rag_answers_carry_sources_and_numbered_citations(world: RealWorld):
    world.set_valves("rag", collections=["docs"], citation_style="footnotes")
    try:
        response = world.chat("rag", "How do I restart a deployment?")
    finally:
        world.set_valves("rag", collections=["docs"])
    sources = [event["data"]["source"]["name"] for event in events(response, "source")]
    assert "Restarting a deployment" in " ".join(sources)
    answer = answer_text(response)
    assert_clean(answer)
    footer = answer.split("**Sources**", 1)[1]
    assert "1. " in footer and "restart-a-deployment.md" in footer


TASK_PROMPT = (
    "### Task:\n{task}\n### Output:\nJSON format: {format}\n### Chat History:\n"
    "<chat_history>\nUSER: What is the capital of France?\nASSISTANT: Paris.\n</chat_history>"
)


@pytest.mark.parametrize(
    ("task", "instruction", "shape"),
    [
        ("title_generation", "Generate a concise title.", '{ "title": "your title" }'),
        ("tags_generation", "Generate 1-3 tags.", '{ "tags": ["tag1", "tag2"] }'),
        ("follow_up_generation", "Suggest 3 follow-ups.", '{ "follow_ups": ["message 1"] }'),
    ],
    ids=["title", "tags", "follow_ups"],
)
def test_background_tasks_stay_short_and_well_formed(world: RealWorld, task, instruction, shape):
    prompt = TASK_PROMPT.format(task=instruction, format=shape)
    key = shape.split('"')[1]
    response = world.chat("chat", prompt, stream=False, task=task)
    answer = answer_text(response)
    parsed = json.loads(answer)  # exactly what Open WebUI parses
    assert list(parsed) == [key]
    if key == "title":
        assert 0 < len(parsed["title"].split()) <= 6
    else:
        assert isinstance(parsed[key], list) and len(parsed[key]) <= 6
        assert all(isinstance(item, str) and len(item) <= 400 for item in parsed[key])
