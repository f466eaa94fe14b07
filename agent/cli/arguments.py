"""What every command shares: ``-v`` and ``--log-format`` (before or after the command's name),
and argument types that refuse a value out of range with the range, not a traceback later.

>>> whole(1, 520)("-1")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: -1 is out of range: 1 to 520
>>> chance("0.25")
0.25
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

LOG_FORMATS = ("text", "json")


def add_common(p: argparse.ArgumentParser, on_command: bool) -> None:
    """On a command, the options only set what they are given, so ``hearth -v demo`` and
    ``hearth demo -v`` mean the same."""
    verbose: object = argparse.SUPPRESS if on_command else False
    log_format: object = argparse.SUPPRESS if on_command else "text"
    p.add_argument("-v", "--verbose", action="store_true", default=verbose, help="debug logging")
    p.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=log_format,
        help="text (default), or json: one object a line, for a log collector",
    )


def whole(lo: int, hi: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not lo <= n <= hi:
            raise argparse.ArgumentTypeError(f"{n} is out of range: {lo} to {hi}")
        return n

    return parse


def _number(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number")
    return x


def chance(text: str) -> float:
    x = _number(text)
    if not 0 <= x <= 1:
        raise argparse.ArgumentTypeError(f"{x} is not a chance from 0 to 1")
    return x


def seconds(text: str) -> float:
    x = _number(text)
    if not 0 < x <= 86400:
        raise argparse.ArgumentTypeError(f"{x} is out of range: more than 0 s, at most a day")
    return x
