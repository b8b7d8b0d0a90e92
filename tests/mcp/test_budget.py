"""The output budget: repeated lines fold, huge text is clipped with a note of what was cut."""

from pipekit.mcp.budget import Budget, collapse_repeats, fit


def test_repeated_lines_collapse_even_when_timestamps_differ():
    lines = [f"2025-06-01T10:00:{s:02d}Z WARN retrying connection to db" for s in range(37)]
    assert collapse_repeats(["start", *lines, "end"]) == [
        "start",
        "2025-06-01T10:00:00Z WARN retrying connection to db (×37)",
        "end",
    ]


def test_distinct_lines_are_kept_in_order():
    assert collapse_repeats(["a", "b", "a"]) == ["a", "b", "a"]


def test_tail_keeps_the_newest_lines_and_says_what_was_cut():
    text = fit(
        [f"line {i}" for i in range(1000)], Budget(max_lines=10), keep="tail", hint="Use grep."
    )
    lines = text.splitlines()
    assert (
        lines[0]
        == "[… 990 earlier lines cut to fit the output budget; 10 of 1,000 shown. Use grep.]"
    )
    assert lines[-1] == "line 999"


def test_head_respects_the_character_budget():
    text = fit(["x" * 99] * 500, Budget(max_chars=1000, max_lines=400))
    assert len(text) < 1100
    assert text.endswith("10 of 500 shown]")


def test_one_giant_line_is_cut_inside():
    text = fit("y" * 50_000, Budget(max_chars=2000))
    assert len(text) < 2200
    assert "cut to the first 2,000 characters" in text


def test_small_text_passes_unchanged():
    assert fit("a\nb") == "a\nb"
