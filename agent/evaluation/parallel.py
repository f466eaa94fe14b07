"""Homes evaluated ``jobs`` at a time, in processes of their own, with a progress bar that fills
as each home finishes; results in the order of the homes, whatever order they finish in."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TypeVar

T = TypeVar("T")
A = TypeVar("A")


def each_home(work: Callable[[A], T], homes: Sequence[A], jobs: int = 1) -> list[T]:
    """``work`` on every home; ``work`` and the homes must pickle when ``jobs`` > 1."""
    from tqdm import tqdm

    jobs = max(1, min(jobs, os.cpu_count() or 1, len(homes)))
    results: dict[int, T] = {}
    with tqdm(total=len(homes), unit="home", file=sys.stderr, disable=None) as bar:
        if jobs == 1:
            for i, home in enumerate(homes):
                results[i] = work(home)
                bar.update()
        else:
            with ProcessPoolExecutor(jobs) as pool:
                running = {pool.submit(work, home): i for i, home in enumerate(homes)}
                for done in as_completed(running):
                    results[running[done]] = done.result()
                    bar.update()
    return [results[i] for i in range(len(homes))]
