"""Background task answers reach Open WebUI as the one JSON object its prompt asks for."""

from __future__ import annotations

import json

from pipekit.pipe.tasks import tidy_task_answer

TITLE_PROMPT = (
    "### Task:\nGenerate a concise title summarizing the chat history.\n### Output:\n"
    'JSON format: { "title": "your concise title here" }\n### Chat History:\n<chat_history>\n'
    "USER: What is the capital of France?\nASSISTANT: Paris.\n</chat_history>"
)
TAGS_PROMPT = 'Generate tags.\n### Output:\nJSON format: { "tags": ["tag1", "tag2", "tag3"] }'
FOLLOW_UPS_PROMPT = 'JSON format: { "follow_ups": ["Suggested next message 1"] }'


def test_a_title_is_taken_from_the_json_and_kept_short():
    answer = 'Sure! {"title": "The Capital City Of France And Its Long History"} Hope it helps.'
    assert json.loads(tidy_task_answer(TITLE_PROMPT, answer)) == {
        "title": "The Capital City Of France And"
    }


def test_an_echoed_placeholder_title_becomes_the_users_first_words():
    # What SmolLM2-135M answered to Open WebUI 0.12.4's title prompt.
    answer = 'JSON format: { "title": "Your concise title here" }\n### Example:\nUser: …'
    assert json.loads(tidy_task_answer(TITLE_PROMPT, answer)) == {
        "title": "What is the capital of France"
    }


def test_tags_keep_strings_and_fall_back_to_general():
    nested = '```json\n{"tags": [{"type": "response", "messageId": 459}, {"name": "France"}]}'
    assert json.loads(tidy_task_answer(TAGS_PROMPT, nested)) == {"tags": ["France"]}
    assert json.loads(tidy_task_answer(TAGS_PROMPT, "https://example.com/x")) == {
        "tags": ["General"]
    }


def test_follow_ups_take_the_message_of_dict_items():
    answer = (
        '```json\n{"follow_ups": [{"id": 1, "message": "Tell me about Lyon."}, '
        '{"id": 2, "message": "What about Berlin?"}]}\n```'
    )
    assert json.loads(tidy_task_answer(FOLLOW_UPS_PROMPT, answer)) == {
        "follow_ups": ["Tell me about Lyon.", "What about Berlin?"]
    }
    assert json.loads(tidy_task_answer(FOLLOW_UPS_PROMPT, "no json")) == {"follow_ups": []}


def test_a_task_without_a_json_format_is_answered_as_is():
    assert tidy_task_answer("### Task:\nGenerate a title", " Pods \n") == "Pods"
