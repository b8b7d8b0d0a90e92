"""The calculator and clock tools: right answers, and refusals that say why."""

from __future__ import annotations

import re

import pytest

from pipekit.agents.builtin import BuiltinToolError, calculator, current_time


@pytest.mark.parametrize(
    ("expression", "shown"),
    [
        ("(17.5 * 3) / 4", "13.125"),
        ("2 ** 10", "1024"),
        ("sqrt(16) + round(pi, 2)", "7.14"),
        ("factorial(5)", "120"),
        ("max(3, 9) % 4", "1"),
    ],
)
def test_calculator_answers(expression, shown):
    assert calculator.invoke({"expression": expression}).text == f"{expression} = {shown}"


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("__import__('os').system('id')", "not defined"),
        ("().__class__.__bases__", "not a number|not allowed|Sorry"),
        ("1 / 0", "divides by zero"),
        ("9 ** 9 ** 9 ** 9", "Sorry"),
        ("factorial(100000)", "whole number from 0 to 1000"),
        ("'a' * 10", "not a number"),
    ],
)
def test_calculator_refuses_what_is_not_arithmetic(expression, reason):
    with pytest.raises(BuiltinToolError, match=reason):
        calculator.invoke({"expression": expression})


def test_current_time_in_a_zone_and_an_unknown_zone():
    text = current_time.invoke({"timezone": "Asia/Seoul"}).text
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d KST \(\w+day\) in Asia/Seoul", text)
    assert current_time.invoke({}).text.endswith("in UTC")
    with pytest.raises(BuiltinToolError, match="Unknown time zone 'Mars/Olympus'"):
        current_time.invoke({"timezone": "Mars/Olympus"})
