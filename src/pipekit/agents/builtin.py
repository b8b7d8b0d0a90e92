"""Small built-in tools: a safe calculator and the current time in a time zone."""

from __future__ import annotations

import math
import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import simpleeval

from pipekit.tools import tool

# Only arithmetic and these functions: no names, attributes or calls beyond them.
_MATH = "sqrt exp log log10 log2 sin cos tan asin acos atan floor ceil degrees radians"
_FUNCTIONS = {name: getattr(math, name) for name in _MATH.split()} | {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
}
_MAX_FACTORIAL = 1000  # factorial(10**6) would hold a tool thread for minutes
_NAMES = {"pi": math.pi, "e": math.e}


def _factorial(n: int) -> int:
    if not isinstance(n, int) or not 0 <= n <= _MAX_FACTORIAL:
        raise ValueError(f"factorial takes a whole number from 0 to {_MAX_FACTORIAL}")
    return math.factorial(n)


_FUNCTIONS["factorial"] = _factorial


class BuiltinToolError(ValueError):
    """The arguments cannot be used (bad expression, unknown zone); the message says why."""


@tool(progress="Calculating {expression}")
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression, e.g. "(17.5 * 3) / 4" or "sqrt(2) ** 3".

    Args:
        expression: Numbers, + - * / // % **, parentheses, and functions such as sqrt, log,
            sin, round, min, max; the constants pi and e.
    """
    evaluator = simpleeval.SimpleEval(functions=_FUNCTIONS, names=_NAMES)
    try:
        value = evaluator.eval(expression)
    except ZeroDivisionError:
        raise BuiltinToolError(f"{expression} divides by zero.") from None
    except (simpleeval.InvalidExpression, SyntaxError, TypeError, ValueError, OverflowError) as e:
        raise BuiltinToolError(f"Cannot evaluate {expression!r}: {e}") from None
    if isinstance(value, float):
        # 12 significant digits: 7.14, not 7.140000000000001 from binary floating point.
        value = float(f"{value:.12g}")
        if value.is_integer() and abs(value) < 1e15:
            value = int(value)
    if not isinstance(value, int | float):
        raise BuiltinToolError(f"{expression!r} is not a number expression.")
    return f"{expression} = {value}"


@tool(progress="Checking the time in {timezone}")
def current_time(timezone: str = "UTC") -> str:
    """The current date, time and weekday in a time zone.

    Args:
        timezone: IANA time zone name, e.g. "Asia/Seoul", "Europe/Berlin" or "UTC".
    """
    try:
        zone = ZoneInfo(timezone.strip() or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise BuiltinToolError(
            f"Unknown time zone {timezone!r}: use an IANA name such as Asia/Seoul or UTC."
        ) from None
    now = datetime.now(zone)
    return f"{now:%Y-%m-%d %H:%M:%S} {now.tzname()} ({now:%A}) in {zone.key}"


# Arithmetic as people write it in a question, turned into the calculator's operators.
_SPELLED = [
    (r"\bmultiplied by\b|\btimes\b|×|(?<=\d)\s*x\s*(?=\d)", "*"),
    (r"\bdivided by\b|÷", "/"),
    (r"\bplus\b", "+"),
    (r"\bminus\b", "-"),
    (r"\bto the power of\b|\^", "**"),
]
_NUMBER = r"\(*\s*-?\d+(?:\.\d+)?\s*\)*"
_EXPRESSION = re.compile(rf"{_NUMBER}(?:\s*(?:\*\*|[-+*/%])\s*{_NUMBER})+")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def arithmetic_in(text: str) -> list[str]:
    """The arithmetic written in a question ("What is (17.5*3)/4?", "12 times 7"), as
    expressions the calculator takes. Dates and ranges ("2024-05-01", "5-10 minutes") are not
    arithmetic: a lone minus counts only with spaces around it."""
    spelled = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,234 -> 1234
    for pattern, operator in _SPELLED:
        spelled = re.sub(pattern, f" {operator} ", spelled, flags=re.IGNORECASE)
    found = []
    for match in _EXPRESSION.finditer(spelled):
        expression = " ".join(_balanced(match.group()).split())
        operators = re.findall(r"\*\*|[+*/%]|(?<=\s)-(?=\s)", expression)
        if not operators or _DATE.fullmatch(expression.replace(" ", "")):
            continue
        try:
            calculator.invoke({"expression": expression})
        except BuiltinToolError:
            continue
        found.append(expression)
    return list(dict.fromkeys(found))


def _balanced(expression: str) -> str:
    """Drop the brackets the match took from around the arithmetic: "(3 + 4" -> "3 + 4"."""
    expression = expression.strip()
    while expression.count("(") > expression.count(")"):
        expression = expression.replace("(", "", 1)
    while expression.count(")") > expression.count("("):
        expression = expression[::-1].replace(")", "", 1)[::-1]
    return expression
