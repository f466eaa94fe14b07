"""When the household usually sleeps: each night's long quiet spells, over recent nights.

A night's sleep runs from the start of its first long quiet spell (45 minutes or more, starting
between 18:00 and 06:00) to the end of its last: a visit to the bathroom at 02:30 splits the
night into two spells, not into a night that ended at 02:30.

Times are minutes since local noon, so a night runs on without wrapping at midnight
(23:00 is 660, 03:00 is 900).

>>> from datetime import datetime, timezone
>>> from zoneinfo import ZoneInfo
>>> s = NightSleep(ZoneInfo("UTC"))
>>> for d in range(1, 11):
...     s.learn(datetime(2024, 1, d, 22, 30, tzinfo=timezone.utc), 8 * 3600.0)
...     s.learn(datetime(2024, 1, d, 12, 0, tzinfo=timezone.utc), 3 * 3600.0)  # an afternoon nap
>>> core = s.core()
>>> (clock_of(core[0]), clock_of(core[1]))
('22:30', '06:30')
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from models.local_time import clock_text

NIGHT_FROM_MIN = 6 * 60  # 18:00 as minutes since noon
NIGHT_TO_MIN = 18 * 60  # 06:00
SHORTEST_SLEEP_S = 2 * 3600
LONG_SPELL_S = 45 * 60
MIN_NIGHTS = 7


def since_noon(at: datetime, tz: ZoneInfo) -> float:
    local = at.astimezone(tz)
    return ((local.hour - 12) % 24) * 60 + local.minute + local.second / 60


def clock_of(minutes_since_noon: float) -> str:
    return clock_text(minutes_since_noon + 12 * 60)


@dataclass(frozen=True, slots=True)
class SleepCore:
    start: float  # minutes since noon
    end: float
    nights: int

    def __getitem__(self, i: int) -> float:
        return (self.start, self.end)[i]

    def holds(self, at: datetime, tz: ZoneInfo) -> bool:
        return self.start <= since_noon(at, tz) < self.end


class NightSleep:
    # Worked out again from what is saved.
    NOT_SAVED: ClassVar[frozenset[str]] = frozenset({"_core", "_usual"})

    def __init__(self, tz: ZoneInfo, window: int = 28) -> None:
        self.tz = tz
        self.history: deque[tuple[float, float]] = deque(maxlen=window)
        self._night: str | None = None
        self._best: tuple[float, float] | None = (
            None  # this night's first start, last end (since noon)
        )
        self._core: tuple[int, SleepCore | None] | None = None
        self._usual: tuple[SleepCore | None] | None = None

    def learn(self, started_at: datetime, length_s: float) -> None:
        """Offer a quiet spell; a long one starting in the evening or night widens that night's
        sleep."""
        start = since_noon(started_at, self.tz)
        if not (NIGHT_FROM_MIN <= start < NIGHT_TO_MIN) or length_s < LONG_SPELL_S:
            return
        night = (started_at.astimezone(self.tz) - timedelta(hours=12)).date().isoformat()
        if night != self._night:
            self._close_night()
            self._night = night
        end = start + length_s / 60
        self._best = (
            (start, end) if self._best is None else (self._best[0], max(self._best[1], end))
        )

    def _close_night(self) -> None:
        if self._best is not None and (self._best[1] - self._best[0]) * 60 >= SHORTEST_SLEEP_S:
            self.history.append(self._best)
            self._core = None
            self._usual = None
        self._best = None

    def core(self) -> SleepCore | None:
        """From the late bedtimes (80th percentile) to the early wakings (20th): asleep on most
        nights."""
        # Asked every minute by the night detectors; it changes only when a night is added.
        if self._core is None or self._core[0] != len(self.history):
            self._core = (len(self.history), self._work_out_core())
        return self._core[1]

    def usual_night(self) -> SleepCore | None:
        """From the median bedtime to the median waking: the night on an ordinary night, wider
        than the core (the night-time bathroom visits of a person who wakes early, or goes to
        bed late, fall inside it)."""
        if self._usual is None:
            self._usual = (self._work_out_usual(),)
        return self._usual[0]

    def in_bed(self) -> SleepCore | None:
        """From the early bedtimes (20th percentile) to the late wakings (80th): the hours she is
        in bed on all but a few nights. A stillness that began in the bedroom in these hours is
        sleep until they end."""
        return self._span(0.2, 0.8)

    def _work_out_usual(self) -> SleepCore | None:
        if len(self.history) < MIN_NIGHTS:
            return None
        start = statistics.median(s for s, _ in self.history)
        end = statistics.median(e for _, e in self.history)
        return SleepCore(start, end, len(self.history)) if end - start >= 60 else None

    def _work_out_core(self) -> SleepCore | None:
        core = self._span(0.8, 0.2)
        return core if core is not None and core.end - core.start >= 60 else None

    def _span(self, bedtime_share: float, waking_share: float) -> SleepCore | None:
        """From the bedtime this share of recent nights began by, to the waking this share ended
        by."""
        if len(self.history) < MIN_NIGHTS:
            return None
        onsets = sorted(s for s, _ in self.history)
        wakes = sorted(e for _, e in self.history)
        n = len(onsets)
        return SleepCore(
            onsets[min(n - 1, int(bedtime_share * n))], wakes[min(n - 1, int(waking_share * n))], n
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "history": [list(h) for h in self.history],
            "night": self._night,
            "best": list(self._best) if self._best else None,
            "window": self.history.maxlen,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], tz: ZoneInfo) -> NightSleep:
        s = cls(tz, int(state["window"]))
        s.history.extend((float(a), float(b)) for a, b in state["history"])
        s._night = state["night"]
        best = state["best"]
        s._best = None if best is None else (float(best[0]), float(best[1]))
        return s
