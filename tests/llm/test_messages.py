"""The one reader of message text and the one surrogate scrubber, which pipes, filters and the
server share."""

from __future__ import annotations

from pipekit.llm import scrub_surrogates, text_of


def test_text_of_reads_a_message_or_its_content_whatever_the_shape():
    parts = [
        {"type": "text", "text": "first"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
        {"type": "text", "text": 7},  # not a string: skipped, never a crash
        {"type": "text", "text": "second"},
    ]
    assert text_of({"role": "user", "content": parts}) == "first\nsecond"
    assert text_of(parts) == "first\nsecond"
    assert text_of({"role": "user", "content": "plain"}) == text_of("plain") == "plain"
    assert text_of(None) == text_of({"role": "assistant"}) == ""


def test_scrub_surrogates_replaces_lone_ones_everywhere_and_keeps_clean_values_as_they_are():
    clean = {"messages": [{"role": "user", "content": "안녕 😀"}]}
    assert scrub_surrogates(clean) is clean
    broken = {"messages": [{"role": "user", "content": "a\ud800b"}], "k\udfff": ["\udc00"]}
    assert scrub_surrogates(broken) == {
        "messages": [{"role": "user", "content": "a\ufffdb"}],
        "k\ufffd": ["\ufffd"],
    }
