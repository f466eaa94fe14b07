"""A progress bar on long replays (a year of a home takes a while): on standard error, shown
when it is a terminal unless asked otherwise, so a script's output and a log stay clean."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Countable(Protocol[T_co]):
    """What a bar can fill: a list, or a recording streamed in time order."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[T_co]: ...


def add_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--progress",
        choices=("auto", "yes", "no"),
        default="auto",
        help="a progress bar on standard error: auto (when it is a terminal), yes or no",
    )


def with_bar(items: Countable[T], choice: str) -> Iterable[T]:
    from tqdm import tqdm

    disable = None if choice == "auto" else choice == "no"
    return tqdm(
        items,
        total=len(items),
        desc="replaying",
        unit=" events",
        unit_scale=True,
        file=sys.stderr,
        disable=disable,
        mininterval=0.5,
    )
