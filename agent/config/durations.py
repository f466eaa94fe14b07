"""Durations a technician writes in YAML: always with a unit, as in ``90s``, ``45min``,
``4h``, ``14d``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_UNITS = {"ms": 0.001, "s": 1, "min": 60, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d|w)\s*$")
PATTERN_TEXT = r"^\s*\d+(\.\d+)?\s*(ms|s|min|m|h|d|w)\s*$"


def parse_duration(value: Any) -> timedelta:
    """Read a duration with its unit.

    >>> parse_duration("90s")
    datetime.timedelta(seconds=90)
    >>> parse_duration("1.5h")
    datetime.timedelta(seconds=5400)
    >>> parse_duration(90)
    Traceback (most recent call last):
    ...
    ValueError: a duration needs a unit, as in 90s, 45min, 4h or 14d (found 90)
    >>> parse_duration("9" * 30 + "d")
    Traceback (most recent call last):
    ...
    ValueError: too long a duration: '999999999999999999999999999999d'
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"a duration needs a unit, as in 90s, 45min, 4h or 14d (found {value!r})")
    m = _PATTERN.match(value)
    if not m:
        raise ValueError(
            f"not a duration: {value!r}; write a number and a unit (ms, s, min, h, d, w)"
        )
    try:
        return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    except OverflowError:
        raise ValueError(f"too long a duration: {value[:40]!r}") from None


def format_duration(td: timedelta) -> str:
    """The shortest exact form.

    >>> format_duration(timedelta(hours=4))
    '4h'
    """
    s = td.total_seconds()
    for unit in ("w", "d", "h", "min", "s"):
        if s >= _UNITS[unit] and s % _UNITS[unit] == 0:
            return f"{int(s // _UNITS[unit])}{unit}"
    return f"{s}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": PATTERN_TEXT, "examples": ["90s", "45min", "4h", "14d"]}
    ),
]
