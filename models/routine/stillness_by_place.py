"""Where long stillness begins: how much more, or less, often a quiet spell runs long for its
hour after a sign of life from each sensor than after any.

A household's long quiet spells start in a few places: the armchair, the bed for a nap, the
fridge before going out by a door that has no sensor. A silence after the hall sensor, where
nobody settles, is more unusual at the same hour than one after the lounge's. Quiet spells
(``models.routine.quiet_spells``) are learned by the hour they start in; this learns, per sensor, a
factor on their rate: the share of spells after that sensor that run long for their hour,
over the household's share, shrunk towards 1 while little has been seen. What counts as long
(:func:`long_for_its_hour`) comes at its hour about once in five days or less: rarer than most
spells, towards the far rarer limits the factor weighs.

>>> s = StillnessByPlace()
>>> for _ in range(400):
...     s.learn("lounge", False)
...     s.learn("hallway", False)
>>> for _ in range(20):
...     s.learn("lounge", True)
>>> round(s.factor("lounge"), 2), round(s.factor("hallway"), 2), s.factor("bathroom")
(1.8, 0.17, 1.0)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from models.routine.quiet_spells import QuietSpells

# Long spells (at the household's own rate) that a sensor's factor starts from: a sensor
# with nothing seen after it is as likely as any to begin a long stillness.
PRIOR_LONG = 2.0
# Long spells the household needs before any factor is other than 1.
MIN_LONG = 5.0
# A quiet spell runs long for its hour when spells that long start there at most this often
# (a day): about once in five days. The factor weighs inactivity's limits, set far rarer
# still, so the nearer this is to that rarity the truer the weights; but the rarer, the fewer
# spells a young home has to learn them from (how the value was chosen: docs/lab-notes.md).
# Shorter spells never count.
LONG_FOR_ITS_HOUR_PER_DAY = 0.2
LONG_FOR_ITS_HOUR_AT_LEAST = timedelta(minutes=20)


def long_for_its_hour(spells: QuietSpells, started_at: datetime, length: timedelta) -> bool:
    """Whether a quiet spell ran long for the hour it began in, as the hour was known before it.

    >>> from zoneinfo import ZoneInfo
    >>> m = QuietSpells(ZoneInfo("UTC"))
    >>> at = datetime(2024, 1, 1, 14, 5, tzinfo=ZoneInfo("UTC"))
    >>> for day in range(30):
    ...     m.start_day("weekday")
    ...     m.learn(at, (30 + day) * 60.0)
    >>> long_for_its_hour(m, at, timedelta(minutes=45))
    False
    >>> long_for_its_hour(m, at, timedelta(hours=6))
    True
    """
    return length >= LONG_FOR_ITS_HOUR_AT_LEAST and (
        spells.rate_per_day(started_at, length.total_seconds()) <= LONG_FOR_ITS_HOUR_PER_DAY
    )


class StillnessByPlace:
    def __init__(self, half_life_days: float = 60.0) -> None:
        self.half_life_days = half_life_days
        # Per sensor: spells after it, and how many of them ran long for their hour.
        self.counts: dict[str, list[float]] = {}

    def start_day(self) -> None:
        decay = 0.5 ** (1.0 / self.half_life_days)
        for c in self.counts.values():
            c[0] *= decay
            c[1] *= decay

    def learn(self, sensor: str, long: bool, weight: float = 1.0) -> None:
        c = self.counts.setdefault(sensor, [0.0, 0.0])
        c[0] += weight
        if long:
            c[1] += weight

    def factor(self, sensor: str | None) -> float:
        """How many times the household's rate of long spells follows a sign of life here."""
        spells = sum(c[0] for c in self.counts.values())
        long = sum(c[1] for c in self.counts.values())
        if long < MIN_LONG or sensor is None:
            return 1.0
        share = long / spells
        n, k = self.counts.get(sensor, [0.0, 0.0])
        return (k + PRIOR_LONG) / ((n + PRIOR_LONG / share) * share)

    def to_state(self) -> dict[str, Any]:
        return {
            "half_life_days": self.half_life_days,
            "counts": {s: list(c) for s, c in self.counts.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> StillnessByPlace:
        m = cls(float(state["half_life_days"]))
        m.counts = {str(s): [float(c[0]), float(c[1])] for s, c in state["counts"].items()}
        return m
