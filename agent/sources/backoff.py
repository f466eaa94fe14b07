"""Waiting between attempts to reach something that has gone (a broker, a serial port)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Waits of 1 s, 2 s, 4 s... up to a minute, with jitter so hubs do not reconnect in step.

    >>> b = Backoff(rng=random.Random(1))
    >>> [round(b.next()) for _ in range(8)]
    [1, 2, 4, 7, 16, 32, 60, 60]
    """

    first: float = 1.0
    longest: float = 60.0
    rng: random.Random = field(default_factory=random.Random)
    _next: float = 0.0

    def next(self) -> float:
        current = self._next or self.first
        self._next = min(current * 2, self.longest)
        return min(current * self.rng.uniform(0.85, 1.15), self.longest)

    def reset(self) -> None:
        self._next = 0.0
