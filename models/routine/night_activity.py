"""How long the household is up and about, at most, in the core of its nights.

A stretch of activity is a run of signs of life with no gap longer than ``JOIN_GAP``: getting
up to the bathroom and back is one short stretch; pacing the hall for an hour is one long one.
For each night (the local noon-to-noon window it falls in), the longest stretch inside the
learned sleep core is kept, over the last ``window`` nights with any data.

>>> from datetime import datetime, timedelta, timezone
>>> from zoneinfo import ZoneInfo
>>> from models.routine.sleep import SleepCore
>>> core = SleepCore(11 * 60, 18 * 60, 10)  # 23:00 to 06:00
>>> na = NightActivity(ZoneInfo("UTC"))
>>> t = datetime(2024, 1, 1, 2, 0, tzinfo=timezone.utc)
>>> for m in range(0, 25, 5):  # five events, five minutes apart
...     na.learn(t + timedelta(minutes=m), core)
>>> na.stretch_s()
1200.0
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from models.routine.sleep import SleepCore

JOIN_GAP = timedelta(minutes=10)
# Nights before the usual longest stretch is known: two weeks, weekends among them.
MIN_NIGHTS = 14


def night_of(at: datetime, tz: ZoneInfo) -> str:
    return (at.astimezone(tz) - timedelta(hours=12)).date().isoformat()


class NightActivity:
    def __init__(self, tz: ZoneInfo, window: int = 60) -> None:
        self.tz = tz
        self.history: deque[float] = deque(maxlen=window)  # each night's longest stretch, s
        self.night: str | None = None
        self.longest = 0.0  # tonight's, so far
        self.run_start: datetime | None = None
        self.run_last: datetime | None = None
        # Nights not to learn from (an alert was raised on them), and what each would have
        # taught once over: see models.routine.held.
        self.keep_out: set[str] = set()
        self.kept_out: dict[str, float] = {}

    def learn(self, at: datetime, core: SleepCore | None) -> None:
        """A sign of life at ``at``; counted only inside the sleep core."""
        self._to_night(night_of(at, self.tz))
        if core is None or not core.holds(at, self.tz):
            self.run_start = self.run_last = None
            return
        if self.run_last is None or at - self.run_last > JOIN_GAP:
            self.run_start = at
        self.run_last = at
        self.longest = max(self.longest, self.stretch_s())

    def advance(self, now: datetime) -> None:
        self._to_night(night_of(now, self.tz))

    def _to_night(self, night: str) -> None:
        if night == self.night:
            return
        if self.night in self.keep_out:
            self.keep_out.discard(self.night)
            self.kept_out[self.night] = self.longest
        elif self.night is not None:
            self.history.append(self.longest)
        self.night = night
        self.longest = 0.0
        self.run_start = self.run_last = None

    def stretch_s(self) -> float:
        """How long the current stretch has gone on (0 if none)."""
        if self.run_start is None or self.run_last is None:
            return 0.0
        return (self.run_last - self.run_start).total_seconds()

    def usual_longest(self, q: float = 0.95) -> float | None:
        """The ``q`` quantile of recent nights' longest stretch, or None before ``MIN_NIGHTS``."""
        if len(self.history) < MIN_NIGHTS:
            return None
        ordered = sorted(self.history)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def nights_at_least(self, seconds: float) -> int:
        return sum(1 for s in self.history if s >= seconds)

    def to_state(self) -> dict[str, Any]:
        return {
            "history": list(self.history),
            "window": self.history.maxlen,
            "night": self.night,
            "longest": self.longest,
            "run_start": self.run_start.isoformat() if self.run_start else None,
            "run_last": self.run_last.isoformat() if self.run_last else None,
            "keep_out": sorted(self.keep_out),
            "kept_out": dict(self.kept_out),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], tz: ZoneInfo) -> NightActivity:
        na = cls(tz, int(state["window"]))
        na.history.extend(float(s) for s in state["history"])
        na.night = state["night"]
        na.longest = float(state["longest"])
        na.run_start = datetime.fromisoformat(state["run_start"]) if state["run_start"] else None
        na.run_last = datetime.fromisoformat(state["run_last"]) if state["run_last"] else None
        na.keep_out = {str(n) for n in state["keep_out"]}
        na.kept_out = {str(n): float(s) for n, s in state["kept_out"].items()}
        return na
