"""How long the home usually stays quiet, learned per local hour and weekday/weekend.

A quiet spell is the time between one sign of activity and the next while someone is home.
For each local hour a spell can start in, the model keeps a histogram of spell lengths on a
log scale, forgetting old days with a half-life. From it, it answers "how often does a quiet
spell at least this long start around this hour?" as a rate per day. Beyond about the longest
spell of each day, the tail is extrapolated as a generalised Pareto (peaks over threshold,
``models.routine.tail``): the scale from each hour's mean excess, the shape from all the
household's hours together (see :meth:`QuietSpells.shape`). So a length never yet seen still
gets a rate rather than zero. (Why this tail and not a power law or an exponential:
``docs/lab-notes.md``.)

>>> from datetime import datetime, timezone
>>> from zoneinfo import ZoneInfo
>>> m = QuietSpells(ZoneInfo("UTC"))
>>> for day in range(20):
...     m.start_day("weekday")
...     for _ in range(60):
...         m.learn(datetime(2024, 1, 1, 9, 30, tzinfo=timezone.utc), 600.0)
>>> m.rate_per_day(datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc), 600.0) > 1
True
>>> m.rate_per_day(datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc), 4 * 3600.0) < 0.01
True
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from models.local_time import DayType, day_type
from models.routine.tail import (
    N_BINS,
    TAIL_MIN_COUNT,
    bin_of,
    counted_past,
    excess_for,
    lower_edge,
    shape_of,
    survival,
    tail_of,
    twice_the_longest,
)

HOURS = 24
# A histogram's tail: its starting bin (None: too few spells) and mean excess (``tail_of``).
Tail = tuple[int | None, float]
# Neighbouring hours share evidence: a spell starting at 13:55 is much like one at 14:05.
HOUR_WEIGHTS = ((-1, 0.5), (0, 1.0), (1, 0.5))
# Pseudo-days of the pooled (all days) estimate mixed into each day type's own.
POOLING_DAYS = 4.0
# Days of the household's average hour mixed into one hour's rate of starting a spell.
PRIOR_DAYS = 4.0
# The longest this share of all the household's spells make the pooled tail.
POOLED_TAIL_SHARE = 0.2
DAY_TYPES: tuple[DayType, DayType] = ("weekday", "weekend")


def count_histogram(
    counts: dict[DayType, list[list[float]]], days: dict[DayType, float], own: DayType, hour: int
) -> tuple[list[float], float]:
    """Spells per bin starting around ``hour`` on ``own`` days (neighbouring hours weighed in,
    and the other day type's pooled in), and the days they were seen over."""
    other: DayType = "weekend" if own == "weekday" else "weekday"
    d_own, d_other = days[own], days[other]
    pooled_days = d_own + d_other
    hist = [0.0] * N_BINS
    weight_sum = sum(w for _, w in HOUR_WEIGHTS)
    if pooled_days > 0:
        for offset, w in HOUR_WEIGHTS:
            h = (hour + offset) % HOURS
            a, b = counts[own][h], counts[other][h]
            hist = [
                c + w * (x + POOLING_DAYS * ((x + y) / pooled_days))
                for c, x, y in zip(hist, a, b, strict=True)
            ]
    return hist, weight_sum * (d_own + (POOLING_DAYS if pooled_days > 0 else 0.0))


class QuietSpells:
    """Histogram of quiet-spell lengths per (day type, local start hour), with forgetting."""

    # Worked out again from what is saved.
    NOT_SAVED: ClassVar[frozenset[str]] = frozenset({"_pooled_cache", "_lengths", "_hists"})

    def __init__(self, tz: ZoneInfo, half_life_days: float = 60.0) -> None:
        self.tz = tz
        self.half_life_days = half_life_days
        self.counts: dict[DayType, list[list[float]]] = {
            "weekday": [[0.0] * N_BINS for _ in range(HOURS)],
            "weekend": [[0.0] * N_BINS for _ in range(HOURS)],
        }
        self.days: dict[DayType, float] = {"weekday": 0.0, "weekend": 0.0}
        self._shape = 0.0  # estimated as each day starts, from the days before it
        # Every spell, at any hour (asked for at each new quiet spell; kept up to date).
        self._pooled_cache: list[float] | None = None
        # Lengths asked for, by (day type, hour, rate): the same at every tick of a quiet
        # spell until a spell is learned or a day starts (the replay's hot path, measured).
        self._lengths: dict[tuple[DayType, int, float], float] = {}
        self._hists: dict[tuple[DayType, int], tuple[list[float], float, Tail]] = {}

    def start_day(self, kind: DayType) -> None:
        """Count a new local day of observation, and let every old day fade a little."""
        decay = 0.5 ** (1.0 / self.half_life_days)
        for dt in DAY_TYPES:
            self.days[dt] *= decay
            for row in self.counts[dt]:
                for i, c in enumerate(row):
                    if c:
                        row[i] = c * decay
        self.days[kind] += 1.0
        self._pooled_cache = None
        self._hists.clear()
        self._shape = self.estimated_shape()
        self._lengths.clear()  # worked out with the old counts and shape

    def learn(self, started_at: datetime, length_s: float, weight: float = 1.0) -> None:
        """One more spell; ``weight`` below 1 for one learned late (faded as if on time)."""
        local = started_at.astimezone(self.tz)
        self.counts[day_type(local.date())][local.hour][bin_of(length_s)] += weight
        if self._pooled_cache is not None:
            self._pooled_cache[bin_of(length_s)] += weight
        # The lengths may lean on every hour's spells (``_pooled``); a histogram only on its
        # neighbouring hours', of both day types.
        self._lengths.clear()
        for offset, _ in HOUR_WEIGHTS:
            for dt in DAY_TYPES:
                self._hists.pop((dt, (local.hour - offset) % HOURS), None)

    def _at(self, started_at: datetime) -> tuple[DayType, int]:
        local = started_at.astimezone(self.tz)
        return day_type(local.date()), local.hour

    def _histogram_at(self, own: DayType, hour: int) -> tuple[list[float], float]:
        """Spells per bin starting around this hour on this day type, and the days they were
        seen over (the list is shared: not to be changed)."""
        hist, days, _ = self._counted(own, hour)
        return hist, days

    def _counted(self, own: DayType, hour: int) -> tuple[list[float], float, Tail]:
        """The histogram, its days and its tail (``tail_of``), worked out once until the
        counts change."""
        found = self._hists.get((own, hour))
        if found is None:
            hist, days = count_histogram(self.counts, self.days, own, hour)
            tail = tail_of(hist, days) if days > 0 else (None, 0.0)
            found = self._hists[(own, hour)] = (hist, days, tail)
        return found

    def days_observed(self) -> float:
        return self.days["weekday"] + self.days["weekend"]

    def rate_per_day(self, started_at: datetime, length_s: float) -> float:
        """Expected number of quiet spells of at least ``length_s`` starting around this hour,
        per day."""
        hist, days, (u_bin, excess) = self._counted(*self._at(started_at))
        if days <= 0:
            return math.inf
        k = bin_of(length_s)
        if u_bin is None or k <= u_bin:
            # Within the observed body: count spells from the bin holding length_s upwards.
            return sum(hist[k:]) / days
        tail_rate = sum(hist[u_bin:]) / days
        fitted = tail_rate * survival(length_s - lower_edge(u_bin), excess, self.shape())
        # Never rarer than it was counted: a long spell at this hour that keeps coming (a
        # lunch club, a long nap on Sundays) is as common as it was seen to be, whatever
        # the fit through the hour's many short spells says.
        return max(fitted, sum(hist[k:]) / days)

    def length_for_rate(self, started_at: datetime, target_per_day: float) -> float:
        """The spell length that starts around this hour only ``target_per_day`` times a day."""
        key = (*self._at(started_at), target_per_day)
        found = self._lengths.get(key)
        if found is None:
            found = self._lengths[key] = self._length_for_rate(*key)
        return found

    def _length_for_rate(self, own: DayType, hour: int, target_per_day: float) -> float:
        hist, days, (u_bin, excess) = self._counted(own, hour)
        if days <= 0:
            return math.inf
        if u_bin is None:
            # Too few spells to fit a tail: the longest spell seen, doubled; or longer, if
            # the household's spells at any hour say so.
            seen = twice_the_longest(hist)
            if seen == math.inf:
                return math.inf
            here = self._starts_per_day(hist, days)
            pooled = self._length_for_share(target_per_day / here) if here > target_per_day else 0.0
            return max(seen, pooled)
        tail_rate = sum(hist[u_bin:]) / days
        u = lower_edge(u_bin)
        if tail_rate <= target_per_day:
            return u
        fitted = u + excess_for(target_per_day / tail_rate, excess, self.shape())
        return max(fitted, counted_past(hist, days, target_per_day))

    # Too few spells around an hour for a tail of its own (outings, mostly: a few a day at
    # most, so twice the longest seen at the hour is often under an hour): how often spells
    # start around this hour, times how long the household's spells last at any hour, gives a
    # second length. The hour's start rate leans a little on the household's average hour.

    def _pooled(self) -> list[float]:
        if self._pooled_cache is None:
            hist = [0.0] * N_BINS
            for kind in DAY_TYPES:
                for row in self.counts[kind]:
                    for i, c in enumerate(row):
                        hist[i] += c
            self._pooled_cache = hist
        return self._pooled_cache

    def _starts_per_day(self, hist: list[float], days: float) -> float:
        all_days = self.days_observed()
        if all_days <= 0:
            return sum(hist) / days
        average_hour = sum(self._pooled()) / all_days / HOURS
        return (sum(hist) + PRIOR_DAYS * average_hour) / (days + PRIOR_DAYS)

    def _length_for_share(self, share: float) -> float:
        """The length that only ``share`` of the household's spells, at any hour, reach."""
        hist = self._pooled()
        n = sum(hist)
        u_bin, excess = tail_of(hist, max(TAIL_MIN_COUNT, POOLED_TAIL_SHARE * n))
        if n <= 0 or u_bin is None:
            return twice_the_longest(hist)
        tail_share = sum(hist[u_bin:]) / n
        if share >= tail_share:
            for k in range(u_bin, N_BINS + 1):
                if sum(hist[k:]) / n <= share:
                    return lower_edge(k)
        return lower_edge(u_bin) + excess_for(share / tail_share, excess, self.shape())

    def limit(
        self,
        started_at: datetime,
        once_in_days: float,
        shortest: timedelta,
        ceiling: timedelta,
        factor: float = 1.0,
    ) -> float:
        """Seconds after ``started_at`` that a spell lasts only about once in ``once_in_days``
        days, summed over the day's hours (so one hour's share is a 24th), kept between
        ``shortest`` and ``ceiling``. ``factor`` scales the hour's rate of long spells (after
        a place where stillness often begins, more than 1)."""
        learned = self.length_for_rate(started_at, 1.0 / (once_in_days * 24) / factor)
        return min(max(learned, shortest.total_seconds()), ceiling.total_seconds())

    def shape(self) -> float:
        """The tail's shape (generalised Pareto xi) for the household, as estimated at the
        day's start from every hour's tail (``models.routine.tail``): how heavy the tail of
        stillness is (a nap, or sometimes a whole quiet afternoon) is a trait of the person,
        so it is pooled over all hours, where each hour alone has too few long spells to say."""
        return self._shape

    def estimated_shape(self) -> float:
        """The shape the counts give now (``shape`` is the one of the day's start)."""
        hists = (self._histogram_at(kind, hour) for kind in DAY_TYPES for hour in range(HOURS))
        return shape_of((hist, days) for hist, days in hists if days > 0)

    def to_state(self) -> dict[str, Any]:
        return {
            "half_life_days": self.half_life_days,
            "shape": self._shape,
            "days": dict(self.days),
            "counts": {k: [list(row) for row in v] for k, v in self.counts.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], tz: ZoneInfo) -> QuietSpells:
        m = cls(tz, float(state["half_life_days"]))
        for dt in DAY_TYPES:
            m.days[dt] = float(state["days"][dt])
            rows = state["counts"][dt]
            if len(rows) != HOURS or any(len(r) != N_BINS for r in rows):
                raise ValueError("quiet-spell state has the wrong shape")
            m.counts[dt] = [[float(c) for c in row] for row in rows]
        m._shape = float(state["shape"])
        return m
