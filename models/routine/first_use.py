"""When the day usually starts: the first use of a morning signal (kettle, kitchen) each day.

Keeps the first-use time of the most recent days of each day type, in local wall-clock minutes,
and days with no use at all. Old days drop out of the window, so a new habit is learned within a
few weeks.

>>> m = FirstUse(window=28)
>>> for t in [480, 485, 470, 490, 475] * 4:
...     m.learn("weekday", t)
>>> m.usual("weekday").median
480.0
>>> m.days_later_than("weekday", 560)
(0, 20, 'weekdays')
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass
from typing import Any, ClassVar

from models.local_time import DayType

# A few weeks of mornings understate how much a start of day can vary; a spread of a few
# minutes would make any slightly late morning look alarming.
MIN_SPREAD_MIN = 20.0
# Days of the last week that must have moved the same way for a new normal.
RECENT_DAYS = 4
# Days of its own a day type needs before its own usual time is used rather than all days'.
OWN_DAYS = 4


@dataclass(frozen=True, slots=True)
class UsualStart:
    median: float
    spread: float  # robust standard deviation (scaled MAD), in minutes
    typical_latest: float  # 90th percentile of the days with a use
    days: int


class FirstUse:
    # Worked out again from what is saved.
    NOT_SAVED: ClassVar[frozenset[str]] = frozenset({"_usual"})

    def __init__(self, window: int = 28) -> None:
        self.window = window
        self.history: dict[DayType, deque[float | None]] = {
            "weekday": deque(maxlen=window),
            "weekend": deque(maxlen=window),
        }
        self.recent: deque[tuple[DayType, float | None]] = deque(maxlen=7)
        # Asked every minute by missed_morning; it changes only when a day is added.
        self._usual: dict[DayType, UsualStart | None] = {}

    def learn(self, kind: DayType, first_minute: float | None, recent: bool = True) -> None:
        """One more day of this day type: its first use (local minutes), or None for none
        (``recent`` False: counted among the last week's already)."""
        self.history[kind].append(first_minute)
        self._usual.clear()
        if recent:
            self.note_recent(kind, first_minute)

    def note_recent(self, kind: DayType, first_minute: float | None) -> None:
        """A day counted only among the last week's, for a new normal (see ``new_normal``)."""
        self.recent.append((kind, first_minute))
        self._usual.clear()

    def new_normal(self) -> float:
        """Minutes by which the last week's starts have moved from the usual, when most of them
        have (0 otherwise).

        A routine that changes for good (a later start since the day centre stopped) would
        otherwise be alerted on every morning until the old mornings leave the 28-day window.
        So once four of the last seven days with a use have all moved the same way by more
        than the usual spread, and by about the same amount (within a spread of each other's
        median), the usual time moves with them.
        """
        offsets = []
        for kind, t in self.recent:
            own = [x for x in self.history[kind] if x is not None]
            if t is not None and len(own) >= OWN_DAYS:
                offsets.append(t - statistics.median(own))
        if len(offsets) < RECENT_DAYS:
            return 0.0
        spread = self._spread()
        later = [o for o in offsets if o > spread]
        earlier = [o for o in offsets if o < -spread]
        moved = (
            later if len(later) >= RECENT_DAYS else earlier if len(earlier) >= RECENT_DAYS else []
        )
        if not moved:
            return 0.0
        # A habit that changes moves every day by about as much; mornings late by scattered
        # amounts (hours of missing data, a lie-in, a day out) are not a new normal.
        shift = statistics.median(moved)
        together = [o for o in moved if abs(o - shift) <= spread]
        return shift if len(together) >= RECENT_DAYS else 0.0

    def _days(self, kind: DayType) -> tuple[list[float | None], str]:
        """The recent days to compare with, and what to call them ("weekdays", or "days")."""
        own = list(self.history[kind])
        if sum(1 for t in own if t is not None) >= OWN_DAYS:
            return own, f"{kind}s"
        # Few weekends yet: lean on all recent days.
        other: DayType = "weekend" if kind == "weekday" else "weekday"
        return own + list(self.history[other]), "days"

    def days_seen(self) -> int:
        """Days in the window, of either type, with a use."""
        return sum(t is not None for days in self.history.values() for t in days)

    def usual(self, kind: DayType) -> UsualStart | None:
        if kind not in self._usual:
            self._usual[kind] = self._work_out_usual(kind)
        return self._usual[kind]

    def _work_out_usual(self, kind: DayType) -> UsualStart | None:
        times = sorted(t for t in self._days(kind)[0] if t is not None)
        if len(times) < OWN_DAYS:
            return None
        shift = self.new_normal()
        med = statistics.median(times) + shift
        q90 = times[min(len(times) - 1, int(0.9 * len(times)))] + shift
        return UsualStart(med, self._spread(), q90, len(times))

    def _spread(self) -> float:
        """How much the start of the day varies, from all recent days.

        Weekdays and weekends each count their deviation from their own median, then the two
        are pooled: eight weekends alone understate how late a morning can ordinarily be.
        """
        deviations: list[float] = []
        for kind in ("weekday", "weekend"):
            times = [t for t in self.history[kind] if t is not None]
            if len(times) >= 3:
                med = statistics.median(times)
                deviations += [abs(t - med) for t in times]
        if not deviations:
            return MIN_SPREAD_MIN
        return max(1.4826 * statistics.median(deviations), MIN_SPREAD_MIN)

    def days_later_than(self, kind: DayType, minute: float) -> tuple[int, int, str]:
        """On how many recent days the first use came later than ``minute`` (or never), of how
        many."""
        days, called = self._days(kind)
        later = sum(1 for t in days if t is None or t > minute)
        return later, len(days), called

    def to_state(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "history": {k: list(v) for k, v in self.history.items()},
            "recent": [list(r) for r in self.recent],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FirstUse:
        m = cls(int(state["window"]))
        for kind in ("weekday", "weekend"):
            for t in state["history"][kind]:
                m.history[kind].append(None if t is None else float(t))
        for kind, t in state["recent"]:
            m.recent.append((kind, None if t is None else float(t)))
        return m
