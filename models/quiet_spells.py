"""How long the home usually stays quiet, learned per local hour and weekday/weekend.

A quiet spell is the time between one sign of activity and the next while someone is home.
For each local hour a spell can start in, the model keeps a histogram of spell lengths on a
log scale, forgetting old days with a half-life. From it, it answers "how often does a quiet
spell at least this long start around this hour?" as a rate per day. Beyond about the longest
spell of each day, the tail is extrapolated as a generalised Pareto (peaks over threshold): the
scale from each hour's mean excess, the shape from all the household's hours together (see
:meth:`QuietSpells.shape`). So a length never yet seen still gets a rate rather than zero. A
pure power law (Hill's estimator, per hour) was tried first and put a weekend afternoon's limit
past 14 hours; a pure exponential tail under-estimated long quiet spells in the TIHM homes by
about twenty times.

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
from typing import Any
from zoneinfo import ZoneInfo

from models.local_time import DayType, day_type

BINS_PER_OCTAVE = 4
SHORTEST_S = 60.0
N_BINS = 14 * BINS_PER_OCTAVE  # 1 minute to about 11 days
HOURS = 24
# Neighbouring hours share evidence: a spell starting at 13:55 is much like one at 14:05.
HOUR_WEIGHTS = ((-1, 0.5), (0, 1.0), (1, 0.5))
# Pseudo-days of the pooled (all days) estimate mixed into each day type's own.
POOLING_DAYS = 4.0
# Fewest (weighted) spells in the tail for its fit to be worth trusting; the tail also holds
# about one spell per day observed, the longest of each day.
TAIL_MIN_COUNT = 8.0
# Long spells, over the household's hours, needed before the tail's shape is estimated.
SHAPE_MIN_COUNT = 60.0
MAX_SHAPE = 0.45
# The tail's mean excess is never taken as less than this, nor under a tenth of its threshold.
SHORTEST_EXCESS_S = 300.0
# Days of the household's average hour mixed into one hour's rate of starting a spell.
PRIOR_DAYS = 4.0
# The longest this share of all the household's spells make the pooled tail.
POOLED_TAIL_SHARE = 0.2


def _bin_of(seconds: float) -> int:
    if seconds <= SHORTEST_S:
        return 0
    i = int(math.log2(seconds / SHORTEST_S) * BINS_PER_OCTAVE)
    return min(i, N_BINS - 1)


def _lower_edge(i: int) -> float:
    return SHORTEST_S * 2 ** (i / BINS_PER_OCTAVE)


def _twice_the_longest(hist: list[float]) -> float:
    """Twice the longest spell seen (the top of its bin), or no limit if none was."""
    top = max((i for i, c in enumerate(hist) if c > 0), default=None)
    return math.inf if top is None else 2 * _lower_edge(top + 1)


def _midpoint(i: int) -> float:
    return SHORTEST_S * 2 ** ((i + 0.5) / BINS_PER_OCTAVE)


class QuietSpells:
    """Histogram of quiet-spell lengths per (day type, local start hour), with forgetting."""

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

    def start_day(self, kind: DayType) -> None:
        """Count a new local day of observation, and let every old day fade a little."""
        decay = 0.5 ** (1.0 / self.half_life_days)
        for dt in ("weekday", "weekend"):
            self.days[dt] *= decay
            for row in self.counts[dt]:
                for i, c in enumerate(row):
                    if c:
                        row[i] = c * decay
        self.days[kind] += 1.0
        self._shape = self._estimate_shape()
        self._pooled_cache = None

    def learn(self, started_at: datetime, length_s: float) -> None:
        local = started_at.astimezone(self.tz)
        self.counts[day_type(local.date())][local.hour][_bin_of(length_s)] += 1.0
        if self._pooled_cache is not None:
            self._pooled_cache[_bin_of(length_s)] += 1.0

    def _histogram(self, started_at: datetime) -> tuple[list[float], float]:
        """Spells per bin starting around this hour, and the days they were seen over."""
        local = started_at.astimezone(self.tz)
        return self._histogram_at(day_type(local.date()), local.hour)

    def _histogram_at(self, own: DayType, hour: int) -> tuple[list[float], float]:
        other: DayType = "weekend" if own == "weekday" else "weekday"
        d_own, d_other = self.days[own], self.days[other]
        pooled_days = d_own + d_other
        hist = [0.0] * N_BINS
        weight_sum = 0.0
        for offset, w in HOUR_WEIGHTS:
            h = (hour + offset) % HOURS
            weight_sum += w
            a, b = self.counts[own][h], self.counts[other][h]
            for i in range(N_BINS):
                if pooled_days > 0:
                    pooled_rate = (a[i] + b[i]) / pooled_days
                    hist[i] += w * (a[i] + POOLING_DAYS * pooled_rate)
        return hist, weight_sum * (d_own + (POOLING_DAYS if pooled_days > 0 else 0.0))

    def days_observed(self) -> float:
        return self.days["weekday"] + self.days["weekend"]

    def rate_per_day(self, started_at: datetime, length_s: float) -> float:
        """Expected number of quiet spells of at least ``length_s`` starting around this hour, per day."""
        hist, days = self._histogram(started_at)
        if days <= 0:
            return math.inf
        u_bin, excess = self._tail(hist, days)
        k = _bin_of(length_s)
        if u_bin is None or k <= u_bin:
            # Within the observed body: count spells from the bin holding length_s upwards.
            return sum(hist[k:]) / days
        tail_rate = sum(hist[u_bin:]) / days
        return tail_rate * self._tail_survival(length_s - _lower_edge(u_bin), excess)

    def length_for_rate(self, started_at: datetime, target_per_day: float) -> float:
        """The spell length that starts around this hour only ``target_per_day`` times a day."""
        hist, days = self._histogram(started_at)
        if days <= 0:
            return math.inf
        u_bin, excess = self._tail(hist, days)
        if u_bin is None:
            # Too few spells to fit a tail: the longest spell seen, doubled; or longer, if
            # the household's spells at any hour say so.
            seen = _twice_the_longest(hist)
            if seen == math.inf:
                return math.inf
            here = self._starts_per_day(hist, days)
            pooled = self._length_for_share(target_per_day / here) if here > target_per_day else 0.0
            return max(seen, pooled)
        tail_rate = sum(hist[u_bin:]) / days
        u = _lower_edge(u_bin)
        if tail_rate <= target_per_day:
            return u
        return u + self._tail_excess_for(target_per_day / tail_rate, excess)

    # Too few spells around an hour for a tail of its own (outings, mostly: a few a day at
    # most, so twice the longest seen at the hour is often under an hour): how often spells
    # start around this hour, times how long the household's spells last at any hour, gives a
    # second length. The hour's start rate leans a little on the household's average hour.

    def _pooled(self) -> list[float]:
        if self._pooled_cache is None:
            hist = [0.0] * N_BINS
            for kind in ("weekday", "weekend"):
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

    def _pooled_tail(self) -> tuple[list[float], float, int | None, float]:
        hist = self._pooled()
        n = sum(hist)
        u_bin, excess = self._tail(hist, max(TAIL_MIN_COUNT, POOLED_TAIL_SHARE * n))
        return hist, n, u_bin, excess

    def _length_for_share(self, share: float) -> float:
        """The length that only ``share`` of the household's spells, at any hour, reach."""
        hist, n, u_bin, excess = self._pooled_tail()
        if n <= 0 or u_bin is None:
            return _twice_the_longest(hist)
        tail_share = sum(hist[u_bin:]) / n
        if share >= tail_share:
            for k in range(u_bin, N_BINS + 1):
                if sum(hist[k:]) / n <= share:
                    return _lower_edge(k)
        return _lower_edge(u_bin) + self._tail_excess_for(share / tail_share, excess)

    def _tail_survival(self, over_s: float, excess: float) -> float:
        xi = self.shape()
        sigma = excess * (1 - xi)
        if xi < 1e-6:
            return math.exp(-over_s / sigma)
        return float((1 + xi * over_s / sigma) ** (-1 / xi))

    def _tail_excess_for(self, survival: float, excess: float) -> float:
        xi = self.shape()
        sigma = excess * (1 - xi)
        if xi < 1e-6:
            return sigma * math.log(1 / survival)
        return sigma / xi * (float((1 / survival) ** xi) - 1)

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
        """The tail's shape (generalised Pareto xi) for the household, as estimated at the day's start."""
        return self._shape

    def _estimate_shape(self) -> float:
        """The tail's shape (generalised Pareto xi), one for the household, from every hour's tail.

        How heavy the tail of stillness is (a nap, or sometimes a whole quiet afternoon) is a
        trait of the person, so it is pooled over all hours, where each hour alone has too few
        long spells to say. Estimated by moments of the excesses, each hour's scaled by its own
        mean: for a generalised Pareto tail, variance / mean^2 = 1 / (1 - 2 xi). Kept in
        [0, 0.45]: 0 is the exponential tail, and above 0.5 the variance would not exist.
        """
        s0 = s1 = s2 = 0.0
        for kind in ("weekday", "weekend"):
            for hour in range(HOURS):
                hist, days = self._histogram_at(kind, hour)
                if days <= 0:
                    continue
                u_bin, excess = self._tail(hist, days)
                if u_bin is None:
                    continue
                u = _lower_edge(u_bin)
                for i in range(u_bin, N_BINS):
                    if hist[i]:
                        z = (_midpoint(i) - u) / excess
                        s0 += hist[i]
                        s1 += hist[i] * z
                        s2 += hist[i] * z * z
        xi = 0.0
        if s0 >= SHAPE_MIN_COUNT and s1 > 0:
            mean = s1 / s0
            cv2 = (s2 / s0 - mean * mean) / (mean * mean)
            if cv2 > 1:
                xi = min((1 - 1 / cv2) / 2, MAX_SHAPE)
        return xi

    @staticmethod
    def _tail(hist: list[float], days: float) -> tuple[int | None, float]:
        """The tail's starting bin and its mean excess in seconds."""
        wanted = max(TAIL_MIN_COUNT, days)
        above = 0.0
        u_bin = None
        for i in range(N_BINS - 1, -1, -1):
            above += hist[i]
            if above >= wanted:
                u_bin = i
                break
        if u_bin is None:
            return None, 0.0
        u = _lower_edge(u_bin)
        n = sum(hist[u_bin:])
        excess = sum(hist[i] * (_midpoint(i) - u) for i in range(u_bin, N_BINS)) / n
        return u_bin, max(excess, SHORTEST_EXCESS_S, 0.1 * u)

    def to_state(self) -> dict[str, Any]:
        return {
            "half_life_days": self.half_life_days,
            "shape": self._shape,
            "days": dict(self.days),
            "counts": {
                k: [[round(c, 6) for c in row] for row in v] for k, v in self.counts.items()
            },
        }

    @classmethod
    def from_state(cls, tz: ZoneInfo, state: dict[str, Any]) -> QuietSpells:
        m = cls(tz, float(state["half_life_days"]))
        for dt in ("weekday", "weekend"):
            m.days[dt] = float(state["days"][dt])
            rows = state["counts"][dt]
            if len(rows) != HOURS or any(len(r) != N_BINS for r in rows):
                raise ValueError("quiet-spell state has the wrong shape")
            m.counts[dt] = [[float(c) for c in row] for row in rows]
        m._shape = float(state["shape"]) if "shape" in state else m._estimate_shape()
        return m
